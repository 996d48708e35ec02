/**
 * Turning outbox payloads into sealed mutations and server envelopes back into vault rows.
 * One place for the binding rules, so drain, pull and conflict resolution agree on them.
 */
import type { Resource } from '@medplum/fhirtypes';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { openJson, sealJson, type Envelope } from '../../../src-shared/node/envelope';
import type { Mutation, RecordMeta } from '../../../src-shared/sync/sync';
import { patientInputFromFhir, type OutboxRow, type Vault } from '../vault';
import type { DataKey } from '../crypto/data-keys';

/** What a deletion seals: the fact of deletion, bound to its record like any version. */
export interface Tombstone {
  resourceType: string;
  id: string;
  deleted: true;
}

/** The resource an outbox row carries (the payload is the resource, or `{ resource }`). */
export function resourceOfPayload(row: Pick<OutboxRow, 'payload' | 'recordId' | 'resourceType' | 'op'>): Resource | Tombstone {
  const p = row.payload as { resourceType?: unknown; resource?: unknown } | null;
  if (row.op === 'delete') return { resourceType: row.resourceType, id: row.recordId, deleted: true };
  if (p && typeof p === 'object' && typeof p.resourceType === 'string') return p as Resource;
  if (p && typeof p === 'object' && p.resource && typeof p.resource === 'object') return p.resource as Resource;
  throw new EhrError(ErrorCode.INVALID, 'An outbox entry carries no resource; it is held for review.', { recordId: row.recordId });
}

export function sealMutation(row: OutboxRow, baseVersion: number, key: DataKey): Mutation {
  if (!row.patientId) throw new EhrError(ErrorCode.INVALID, 'An outbox entry has no patient; it cannot be sealed.', { recordId: row.recordId });
  const envelope = sealJson(
    { recordId: row.recordId, patientId: row.patientId, resourceType: row.resourceType, version: baseVersion + 1, keyId: key.keyId },
    resourceOfPayload(row),
    key.key,
  );
  return { mutationId: row.mutationId, op: row.op === 'delete' ? 'delete' : 'upsert', baseVersion, envelope };
}

/** Opens a server envelope and checks that what is inside is the record the envelope names. */
export function openRecord(envelope: Envelope, key: DataKey): Resource | Tombstone {
  const value = openJson<Resource | Tombstone>(envelope, key.key);
  if (!value || typeof value !== 'object' || value.resourceType !== envelope.resourceType || value.id !== envelope.recordId) {
    throw new EhrError(ErrorCode.INTEGRITY, 'A record from the server does not match its envelope; it was not stored.', { recordId: envelope.recordId });
  }
  return value;
}

export const isTombstone = (v: Resource | Tombstone): v is Tombstone => (v as Tombstone).deleted === true;

export type ApplyOutcome = 'stored' | 'older' | 'kept-local' | 'conflict-updated' | 'deleted';

/**
 * Stores a server version in the vault (call inside vault.transaction). Local work is never
 * overwritten: a record with unsent changes is left for the push to settle (the server answers
 * with a conflict), and a record already in conflict gets the newer server side beside it.
 */
export function applyServerRecord(vault: Vault, envelope: Envelope, meta: RecordMeta, value: Resource | Tombstone): ApplyOutcome {
  const local = vault.resources.get(envelope.recordId);
  if (local && local.version >= envelope.version) return 'older';
  if (local?.status === 'pending') return 'kept-local';
  if (local?.status === 'conflict') {
    const prior = vault.resources.getConflict(local.id) as (ConflictTheirs & Record<string, unknown>) | null;
    if (!isTombstone(value) && (!prior || prior.version < envelope.version)) {
      vault.resources.markConflict(local.id, { ...prior, version: envelope.version, resource: value, meta } as ConflictTheirs);
    }
    return 'conflict-updated';
  }
  if (isTombstone(value) || meta.deleted) {
    if (local) vault.resources.setStatus(local.id, 'deleted', envelope.version);
    return 'deleted';
  }
  vault.resources.put({ resource: value, patientId: envelope.patientId, version: envelope.version, status: 'synced' });
  if (value.resourceType === 'Patient') indexPatient(vault, value as Resource & { resourceType: 'Patient'; id: string }, envelope.version);
  return 'stored';
}

/** Patients are also kept in the searchable patients table; a chart without MRN/name/birth date is only a resource. */
function indexPatient(vault: Vault, patient: Resource & { resourceType: 'Patient'; id: string }, version: number): void {
  let input;
  try {
    input = patientInputFromFhir(patient, version);
  } catch {
    return;
  }
  const existing = vault.patients.getById(patient.id);
  vault.patients.upsert({ ...input, restricted: existing?.restricted ?? false });
}

/**
 * The server side of a conflict as kept beside the local version (resources.conflict_json):
 * the vault's ConflictSide plus who wrote it, where and when, and who wrote ours.
 */
export interface ConflictTheirs {
  version: number;
  resource: Resource;
  meta: RecordMeta;
  mine?: { baseVersion: number; mutationId: string; deviceId: string; authorUserId: string | null; at: string };
}
