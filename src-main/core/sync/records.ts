/**
 * Turning outbox payloads into sealed mutations and server envelopes back into vault rows.
 * One place for the binding rules, so drain, pull and conflict resolution agree on them.
 */
import type { Resource } from '@medplum/fhirtypes';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { open, sealJson, type Envelope } from '../../../src-shared/node/envelope';
import type { Mutation, RecordMeta } from '../../../src-shared/sync/sync';
import { patientInputFromFhir, type LocalResourceState, type OutboxRow, type PulledResourceInput, type Vault } from '../vault';
import { assertValidResource } from '../vault/fhir-validate';
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

const mismatch = (envelope: Envelope): EhrError =>
  new EhrError(ErrorCode.INTEGRITY, 'A record from the server does not match its envelope; it was not stored.', { recordId: envelope.recordId });

/** Opens a server envelope and checks that what is inside is the record the envelope names. */
export function openRecord(envelope: Envelope, key: DataKey): Resource | Tombstone {
  return openRecordText(envelope, key).value;
}

/**
 * Like openRecord, also returning the exact plaintext (so a bulk store need not serialise the
 * resource again). The structural check every pulled record passes before it is stored: the
 * envelope authenticates (AEAD, AAD = record id, patient id, type, version, key id), the plaintext
 * is a JSON object, and its resourceType and id are the envelope's. Anything else is INTEGRITY.
 */
export function openRecordText(envelope: Envelope, key: DataKey): { value: Resource | Tombstone; json: string } {
  const json = open(envelope, key.key).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw mismatch(envelope);
  }
  const v = value as { resourceType?: unknown; id?: unknown } | null;
  if (!v || typeof v !== 'object' || Array.isArray(v) || v.resourceType !== envelope.resourceType || v.id !== envelope.recordId) throw mismatch(envelope);
  return { value: value as Resource | Tombstone, json };
}

export const isTombstone = (v: Resource | Tombstone): v is Tombstone => (v as Tombstone).deleted === true;

export type ApplyOutcome = 'stored' | 'older' | 'kept-local' | 'conflict-updated' | 'deleted';

/**
 * Stores a server version in the vault (call inside vault.transaction). Local work is never
 * overwritten: a record with unsent changes is left for the push to settle (the server answers
 * with a conflict), and a record already in conflict gets the newer server side beside it.
 */
export function applyServerRecord(vault: Vault, envelope: Envelope, meta: RecordMeta, value: Resource | Tombstone): ApplyOutcome {
  const local = vault.resources.localStates([envelope.recordId]).get(envelope.recordId);
  const outcome = applyOne(vault, local, envelope, meta, value);
  if (outcome === 'bulk') {
    vault.resources.put({ resource: value as Resource, patientId: envelope.patientId, version: envelope.version, status: 'synced' });
    return 'stored';
  }
  return outcome;
}

/**
 * The rules of applyServerRecord for one record, given its local state. Returns 'bulk' when the
 * record is a plain new server version the caller may store in bulk (not validated yet); Patient
 * resources (they feed the searchable patients table) and the server side of a conflict (shown
 * beside ours) are validated here, now.
 */
function applyOne(vault: Vault, local: LocalResourceState | undefined, envelope: Envelope, meta: RecordMeta, value: Resource | Tombstone): ApplyOutcome | 'bulk' {
  if (local && local.version >= envelope.version) return 'older';
  if (local?.status === 'pending') return 'kept-local';
  if (local?.status === 'conflict') {
    const prior = vault.resources.getConflict(envelope.recordId) as (ConflictTheirs & Record<string, unknown>) | null;
    if (!isTombstone(value) && (!prior || prior.version < envelope.version)) {
      assertValidResource(value);
      vault.resources.markConflict(envelope.recordId, { ...prior, version: envelope.version, resource: value, meta } as ConflictTheirs);
    }
    return 'conflict-updated';
  }
  if (isTombstone(value) || meta.deleted) {
    if (local) vault.resources.setStatus(envelope.recordId, 'deleted', envelope.version);
    return 'deleted';
  }
  if (value.resourceType === 'Patient') {
    vault.resources.put({ resource: value, patientId: envelope.patientId, version: envelope.version, status: 'synced' });
    indexPatient(vault, value as Resource & { resourceType: 'Patient'; id: string }, envelope.version);
    return 'stored';
  }
  return 'bulk';
}

/** A pulled record after openRecordText. */
export interface OpenedRecord {
  envelope: Envelope;
  meta: RecordMeta;
  value: Resource | Tombstone;
  /** The exact plaintext (a JSON object naming the envelope's record). */
  json: string;
}

/**
 * Applies one pulled page (call inside the page's vault transaction): the local state of every
 * record in one query, then applyServerRecord's rules per record, with the plain new versions —
 * nearly all of an initial sync — written by one prepared statement, their plaintext stored as
 * is and their FHIR validation deferred to the first read (resources.putPulled). A validation
 * refusal of a record checked now (Patient, conflict side) is reported through `refused` and the
 * record skipped; any other failure throws (the caller's transaction rolls the page back).
 */
export function applyServerPage(
  vault: Vault, records: readonly OpenedRecord[], refused: (recordId: string, code: string) => void,
): { stored: number; patients: Set<string>; changed: Set<string> } {
  const states = vault.resources.localStates(records.map((r) => r.envelope.recordId));
  const bulk: PulledResourceInput[] = [];
  const flush = (): void => {
    if (bulk.length) vault.resources.putPulled(bulk.splice(0));
  };
  const patients = new Set<string>();
  /** Patients whose cached chart this page changed (a version stored, a delete, a conflict kept). */
  const changed = new Set<string>();
  let stored = 0;
  for (const { envelope, meta, value, json } of records) {
    const id = envelope.recordId;
    const local = states.get(id);
    if (local && local.version >= envelope.version) {
      patients.add(envelope.patientId);
      continue;
    }
    let outcome: ApplyOutcome | 'bulk';
    try {
      if (local) flush(); // a record changing twice in one page is applied in order
      outcome = applyOne(vault, local, envelope, meta, value);
    } catch (e) {
      if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
      refused(id, e.code);
      continue;
    }
    if (outcome === 'bulk') {
      bulk.push({ id, patientId: envelope.patientId, resourceType: envelope.resourceType, version: envelope.version, json });
      states.set(id, { version: envelope.version, status: 'synced' });
      stored++;
      changed.add(envelope.patientId);
    } else {
      if (outcome === 'stored' || outcome === 'deleted') stored++;
      if (outcome === 'stored') states.set(id, { version: envelope.version, status: 'synced' });
      if (outcome === 'stored' || outcome === 'deleted' || outcome === 'conflict-updated') changed.add(envelope.patientId);
    }
    patients.add(envelope.patientId);
  }
  flush();
  return { stored, patients, changed };
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
