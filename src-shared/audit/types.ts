/**
 * Audit entry: what the workstation records about every access to PHI, hash-chained per device.
 * Ids and codes only — never a name, a date of birth or note text. Maps to FHIR AuditEvent
 * (IHE BALP): action = AuditEvent.action, type = subtype, outcome, agent = userId/role,
 * entity = patientId + resourceRefs.
 */

/** FHIR AuditEvent.action: Create, Read, Update, Delete, Execute. */
export const AUDIT_ACTIONS = ['C', 'R', 'U', 'D', 'E'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What happened. Add new types at the end; never rename (the server and old chains use them). */
export const AUDIT_TYPES = [
  'login',
  'logout',
  'login-failed',
  'lock',
  'unlock',
  'read',
  'search',
  'create',
  'update',
  'delete',
  'print',
  'export',
  'break-glass-start',
  'break-glass-end',
  'key-access',
  'access-denied',
  'sync-push',
  'sync-pull',
  'conflict-resolved',
  'vault-rekey',
  'device-enrolled',
  /** The privacy officer ended a review (reasonCode: the disposition) or suspended/reinstated an account. */
  'privacy-review',
  /** Telemedicine (docs/telemedicine.md): resourceRefs name `Encounter/<visitId>` and, for recordings, `Media/<recordingId>`. */
  'visit-start',
  'visit-end',
  /** The patient's recording answer (reasonCode: 'consent-given' | 'consent-refused'). */
  'visit-consent',
  /** The media transport was checked (outcome success, or denied with the visit ended; reasonCode: the SRTP cipher). */
  'visit-transport',
  'recording-start',
  'recording-view',
  'recording-download',
  'recording-delete',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AUDIT_SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type AuditSeverity = (typeof AUDIT_SEVERITIES)[number];

/** What a caller supplies; the chain fields are assigned by the writer (the vault's audit repository). */
export interface AuditEntryInput {
  /** ISO-8601 time; the writer fills it in when omitted. */
  at?: string;
  action: AuditAction;
  type: AuditType;
  outcome: AuditOutcome;
  severity: AuditSeverity;
  userId: string | null;
  role: string | null;
  patientId?: string | null;
  /** References by id only, e.g. "Observation/5b1c…". */
  resourceRefs?: string[];
  /** Hashes (hex) of the record before and after a change, never the record itself. */
  beforeHash?: string | null;
  afterHash?: string | null;
  correlationId: string;
  /** A code (e.g. a break-glass reason code or an error code), never free text. */
  reasonCode?: string | null;
}

/** The entry as chained: device, sequence and hashes added (and a signature on checkpoints). */
export interface AuditEntry extends AuditEntryInput {
  at: string;
  deviceId: string;
  /** 1, 2, 3… per device, no gaps. */
  seq: number;
  /** Hash of the previous entry (hex), GENESIS_HASH for seq 1. */
  prevHash: string;
  /** sha256(prevHash ‖ canonical JSON of the entry without hash and signature), hex. */
  hash: string;
  /**
   * Present on checkpoint entries only: the device key's Ed25519 signature of this entry's hash
   * bytes, base64url. Because every hash commits to the previous one, a checkpoint vouches for
   * itself and every entry before it (src-shared/node/audit-chain.ts).
   */
  signature?: string;
}

/**
 * What the device sends in place of an entry the server would refuse (e.g. a read written before
 * reads were split, listing more records than an entry may carry): the link only — device, seq,
 * prevHash, the entry's real hash (and its checkpoint signature, if it is one) — never edited
 * content. Continuity stays verifiable: the next entry hangs from this hash and the batch's signed
 * checkpoint commits to it, so the placeholder cannot be forged or reordered; only this one
 * entry's content is not on the server. The full entry stays in the device's vault, unchanged,
 * for review (docs/sync.md "Audit quarantine").
 */
export interface QuarantinedAuditLink {
  deviceId: string;
  seq: number;
  prevHash: string;
  hash: string;
  signature?: string;
  /** When the device quarantined it. */
  at: string;
  quarantined: true;
  /** Why (a code: 'schema' = failed the wire schema locally, 'refused' = the server refused it alone). */
  reason: string;
}

/** One link of a device's chain as pushed: a full entry, or a quarantined entry's placeholder. */
export type AuditChainLink = AuditEntry | QuarantinedAuditLink;

export function isQuarantinedLink(e: AuditChainLink): e is QuarantinedAuditLink {
  return (e as Partial<QuarantinedAuditLink>).quarantined === true;
}

/** prevHash of the first entry of every device's chain. */
export const GENESIS_HASH = '0'.repeat(64);

export type ChainProblem = 'gap' | 'fork' | 'edit' | 'reorder' | 'signature' | 'unsigned' | 'device';

export type ChainVerdict =
  | { ok: true; count: number; lastSeq: number; lastHash: string }
  | { ok: false; problem: ChainProblem; index: number; seq: number };
