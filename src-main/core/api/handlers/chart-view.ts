/** Turning vault rows into what the API returns, keeping only what the role may read. */
import type { Patient } from '@medplum/fhirtypes';
import { rolesAllow, type Role } from '../../../../src-shared/access';
import type { RecordType, RecordView } from '../../../../src-shared/api';
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

/** The records of a patient this role may read, optionally by type, or only the given ids. */
export function readableRecords(vault: Vault, roles: readonly Role[], patientId: string, opts: { resourceType?: string; ids?: readonly string[] } = {}): StoredResource[] {
  const all = vault.resources.listByPatient(patientId, { ...(opts.resourceType ? { resourceType: opts.resourceType } : {}), limit: 1000 });
  const wanted = opts.ids ? new Set(opts.ids) : null;
  return all.filter((r) => (!wanted || wanted.has(r.id)) && mayRead(roles, r));
}

export const refOf = (r: { resourceType: string; id: string }): string => `${r.resourceType}/${r.id}`;
