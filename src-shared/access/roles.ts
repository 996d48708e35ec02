/**
 * Roles and what they may do, as data (the way Medplum's AccessPolicy is data): one table read by
 * the one evaluator (./evaluate.ts) on the workstation and on the server, so an offline decision and
 * an online decision about the same request always agree.
 *
 * FHIR access is expressed as SMART App Launch v2 scopes (`patient/Observation.cru?category=vital-signs`).
 * What is not FHIR data (reviewing break-glass, managing users) is a named capability.
 */

export const ROLES = ['nurse', 'physician', 'billing', 'privacy_officer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const CAPABILITIES = [
  /** May ask for emergency access to a patient outside the care team (break-glass). */
  'break-glass:request',
  /** May review break-glass events (privacy officer). */
  'break-glass:review',
  /** May read and verify the workstation's audit log. */
  'audit:read',
  /** May manage users: list cached accounts, clear a local lockout, forget an account. */
  'users:manage',
  /** May keep personal drafts (clinical note-taking). */
  'drafts:write',
  /** May print or export a chart. */
  'chart:print-export',
  /** May start and host a video visit with a patient of their care team (and record it with consent). */
  'visit:host',
  /** May delete a recording: its host (physician), or a privacy officer for any. */
  'recording:delete',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface RoleDefinition {
  readonly label: string;
  /** SMART v2 scope strings; the union of what they allow is what the role may do. */
  readonly scopes: readonly string[];
  readonly capabilities: readonly Capability[];
}

/** Clinical resource types with their own write scopes. */
const PHYSICIAN_WRITES = ['DocumentReference', 'Condition', 'MedicationRequest', 'MedicationStatement', 'AllergyIntolerance'];

export const ROLE_DEFINITIONS: Readonly<Record<Role, RoleDefinition>> = {
  nurse: {
    label: 'Nurse',
    scopes: ['patient/*.rs', 'patient/Observation.cu?category=vital-signs'],
    capabilities: ['break-glass:request', 'drafts:write', 'chart:print-export'],
  },
  physician: {
    label: 'Physician',
    scopes: [
      'patient/*.rs',
      'patient/Observation.cud?category=vital-signs',
      ...PHYSICIAN_WRITES.map((t) => `patient/${t}.cud`),
    ],
    capabilities: ['break-glass:request', 'drafts:write', 'chart:print-export', 'visit:host', 'recording:delete'],
  },
  billing: {
    label: 'Billing',
    scopes: ['patient/Patient.rs', 'patient/Encounter.rs'],
    capabilities: [],
  },
  privacy_officer: {
    label: 'Privacy officer',
    scopes: ['user/AuditEvent.rs'],
    capabilities: ['audit:read', 'break-glass:review', 'recording:delete'],
  },
  admin: {
    label: 'Administrator',
    scopes: ['user/Practitioner.cruds'],
    capabilities: ['users:manage'],
  },
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
