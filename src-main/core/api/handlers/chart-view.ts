/** Turning vault rows into what the API returns, keeping only what the role may read. */
import type { Patient } from '@medplum/fhirtypes';
import { rolesAllow, rolesMayEver, type Role } from '../../../../src-shared/access';
import { LIMITS, RECORD_TYPES, type ChartCursor, type ChartPaging, type RecordType, type RecordView } from '../../../../src-shared/api';
import type { PatientRecord, StoredResource, Vault } from '../../vault';

export function toRecordView(r: StoredResource): RecordView {
  return {
    id: r.id,
    patientId: r.patientId ?? '',
    resourceType: r.resourceType as RecordType,
    version: r.version,
    status: r.status,
    updatedAt: Date.parse(r.updatedAt),
    resource: r.resource,
  };
}

export function mayRead(roles: readonly Role[], r: StoredResource): boolean {
  return rolesAllow(roles, { resourceType: r.resourceType, interaction: 'r', resource: r.resource });
}

/** The FHIR Patient for a vault row: the stored resource, or one built from the demographics. */
export function patientResource(p: PatientRecord): Patient {
  if (p.resource) return p.resource;
  return {
    resourceType: 'Patient',
    id: p.id,
    identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: p.mrn }],
    name: [{ use: 'official', family: p.familyName, given: p.givenNames ? p.givenNames.split(' ') : [] }],
    birthDate: p.birthDate,
    ...(p.gender ? { gender: p.gender as Patient['gender'] } : {}),
  };
}

/** Far above any real chart; a bound so one call cannot be asked to hold a whole vault. */
const ALL = 100_000;

/**
 * The records of a patient this role may read — every one, whatever the chart's size (no silent
 * cap) — of the chart's types (never financial ones), newest clinical date first; optionally one
 * type, or only the given ids.
 */
export function readableRecords(vault: Vault, roles: readonly Role[], patientId: string, opts: { resourceType?: string; ids?: readonly string[] } = {}): StoredResource[] {
  const types = opts.resourceType ? [opts.resourceType] : RECORD_TYPES;
  const wanted = opts.ids ? new Set(opts.ids) : null;
  return vault.resources.listByClinicalDate(patientId, types, { limit: ALL }).records.filter((r) => (!wanted || wanted.has(r.id)) && mayRead(roles, r));
}

/** Shown whole whatever the chart's size: the summary a clinician must never miss a line of. */
export const SUMMARY_TYPES: readonly RecordType[] = ['Patient', 'Condition', 'MedicationRequest', 'MedicationStatement', 'AllergyIntolerance'];
/** Paged newest clinical date first. */
export const TIMELINE_TYPES: readonly RecordType[] = ['Encounter', 'Observation', 'Procedure', 'Immunization', 'DocumentReference'];
/** Vital-sign Observations always loaded with the chart, however old the timeline page reaches. */
export const LATEST_VITALS = 200;

const readableTypes = (roles: readonly Role[], types: readonly string[]): string[] => types.filter((t) => rolesMayEver(roles, 'r', [t]));

/** One page of the timeline (records older than `before`), what the role may read, and the cursor after it. */
export function timelinePage(vault: Vault, roles: readonly Role[], patientId: string, before: ChartCursor | null, limit: number): { records: StoredResource[]; olderCursor: ChartCursor | null } {
  const page = vault.resources.listByClinicalDate(patientId, readableTypes(roles, TIMELINE_TYPES), { before, limit });
  return { records: page.records.filter((r) => mayRead(roles, r)), olderCursor: page.full ? page.last : null };
}

/**
 * What patients.open loads: every summary record (problems, medications, allergies), the newest
 * vital signs, and the first timeline page — and, in `paging`, how much timeline there is and what
 * the chart does not show, so nothing is dropped without the screen saying so.
 */
export function chartRecords(vault: Vault, roles: readonly Role[], patientId: string): { records: StoredResource[]; paging: ChartPaging } {
  const summary = vault.resources.listByClinicalDate(patientId, readableTypes(roles, SUMMARY_TYPES), { limit: ALL }).records.filter((r) => mayRead(roles, r));
  const vitals = rolesMayEver(roles, 'r', ['Observation']) ? vault.resources.latestVitalSigns(patientId, LATEST_VITALS).filter((r) => mayRead(roles, r)) : [];
  const page = timelinePage(vault, roles, patientId, null, LIMITS.chartPage);
  const seen = new Set<string>();
  const records = [...summary, ...page.records, ...vitals].filter((r) => !seen.has(r.id) && (seen.add(r.id), true));
  const counts = vault.resources.countByType(patientId);
  const timeline = readableTypes(roles, TIMELINE_TYPES);
  const chartTypes = new Set<string>(RECORD_TYPES);
  return {
    records,
    paging: {
      timelineTotal: timeline.reduce((n, t) => n + (counts.get(t) ?? 0), 0),
      olderCursor: page.olderCursor,
      notShown: [...counts].filter(([t]) => !chartTypes.has(t)).map(([resourceType, count]) => ({ resourceType, count })),
    },
  };
}

export const refOf = (r: { resourceType: string; id: string }): string => `${r.resourceType}/${r.id}`;
