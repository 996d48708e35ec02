/**
 * Applies a push batch in one transaction, set-based (a handful of queries per batch, not per
 * mutation). Rules:
 * - every mutation is authorised first (clinical role, patient access) — replays and conflict
 *   answers included — and nothing is written (not even a new patient) before that;
 * - idempotent by mutationId: a known id sent again from the same device for the same record and
 *   payload answers `duplicate` with the version it produced; the id with anything else is refused;
 * - optimistic on baseVersion: a stale base answers `conflict`, keeps the client's envelope in
 *   `conflicts` and returns the server's current one — nothing is overwritten;
 * - the envelope must be sealed as baseVersion + 1 and keep its record's patient and type;
 * - only patients the user may see (or new patients they register) are accepted.
 * Writers take one transaction-scoped advisory lock so that record seq (the pull cursor) is
 * assigned in commit order: a reader never passes a seq that commits later.
 */
import { createHash } from 'node:crypto';
import type { Sql } from '../db/db';
import { hasCapability } from '../../src-shared/access';
import { ErrorCode } from '../../src-shared/errors';
import type { Mutation, MutationResult, RecordMeta, WireEnvelope } from '../../src-shared/sync';
import * as careTeams from '../store/care-teams';
import * as mutationStore from '../store/mutations';
import * as patients from '../store/patients';
import * as records from '../store/records';
import type { RecordRow } from '../store/records';
import { visibleAmong } from '../store/visibility';
import { registerNewPatient } from './access';
import type { Principal } from './tokens';
import { writeAuditMany, type ServerAuditEntry } from './server-audit';

export const rowToEnvelope = (r: RecordRow): WireEnvelope => ({
  v: 1, recordId: r.record_id, patientId: r.patient_id, resourceType: r.resource_type, version: r.version,
  keyId: r.key_id, nonce: r.nonce, ct: r.ct, tag: r.tag,
});
export const rowToMeta = (r: RecordRow): RecordMeta => ({
  authorUserId: r.author_user_id, deviceId: r.device_id, at: new Date(r.updated_at).toISOString(), deleted: r.deleted,
});

/**
 * What a replay is matched on besides (device, mutation id): the hash of what the mutation asserts
 * — op, base version and the envelope's whole binding (record, patient, type, version, key id).
 * A mutation id sent again with another record, patient, base or version is not a retry and is
 * refused. The sealing randomness (nonce, and so ct and tag) is left out on purpose: the
 * workstation seals each attempt afresh (src-main/core/sync/outbox-drain.ts), so a retry after a
 * lost answer carries the same binding under a new nonce.
 */
export function payloadHash(m: Mutation): string {
  const e = m.envelope;
  return createHash('sha256')
    .update(JSON.stringify([m.op, m.baseVersion, e.v, e.recordId, e.patientId, e.resourceType, e.version, e.keyId]))
    .digest('base64url');
}

/** Only clinicians write records (the server cannot see inside an envelope; the role is what it can check). */
export const mayWriteRecords = (who: Principal): boolean => hasCapability(who.roles, 'drafts:write');

/**
 * The patients of this batch the caller may write. Authorisation comes first and writes nothing;
 * only then is a patient the server has never seen registered, and only for a clinician on a care
 * team (the registration puts the patient on that clinician's teams, so it is visible at once).
 */
async function allowedPatients(sql: Sql, who: Principal, patientIds: string[], now: Date): Promise<Set<string>> {
  if (!mayWriteRecords(who) || patientIds.length === 0) return new Set();
  const allowed = await visibleAmong(sql, who.userId, now, patientIds);
  const unseen = patientIds.filter((id) => !allowed.has(id));
  if (unseen.length === 0) return allowed;
  if (!(await careTeams.hasMember(sql, who.userId))) return allowed;
  const existing = await patients.knownAmong(sql, unseen);
  for (const id of unseen) {
    if (!existing.has(id) && (await registerNewPatient(sql, who.userId, id))) allowed.add(id);
  }
  return allowed;
}

interface KnownMutation {
  recordId: string;
  version: number;
  conflicted: boolean;
  deviceId: string | null;
  userId: string;
  payloadHash: string | null;
}

/** A replay of a known mutation id: the same device (or, for rows stored before hashes, the same user), record and payload. */
const sameMutation = (k: KnownMutation, who: Principal, m: Mutation, hash: string): boolean =>
  k.recordId === m.envelope.recordId &&
  (k.payloadHash === null ? k.userId === who.userId : k.payloadHash === hash && k.deviceId === who.deviceId);

export async function applyPush(sql: Sql, who: Principal, mutations: Mutation[], now: Date, correlationId: string): Promise<MutationResult[]> {
  await records.lockForWrite(sql);
  const known = new Map(
    (await mutationStore.byIds(sql, mutations.map((m) => m.mutationId))).map((r) => [r.mutation_id, {
      recordId: r.record_id, version: r.version, conflicted: r.status === 'conflict', deviceId: r.device_id, userId: r.user_id, payloadHash: r.payload_hash,
    } satisfies KnownMutation]),
  );
  const heads = new Map(
    (await records.heads(sql, [...new Set(mutations.map((m) => m.envelope.recordId))])).map((r) => [r.record_id, r]),
  );
  const allowed = await allowedPatients(sql, who, [...new Set(mutations.map((m) => m.envelope.patientId))], now);

  const results: MutationResult[] = [];
  const changed = new Map<string, RecordRow>();
  const applied: { mutationId: string; recordId: string; version: number; hash: string }[] = [];
  const conflicts: { m: Mutation; serverVersion: number }[] = [];
  const perPatient = new Map<string, { applied: number; conflicts: number; rejected: number; replays: number }>();
  const tally = (patientId: string, k: 'applied' | 'conflicts' | 'rejected' | 'replays') => {
    const t = perPatient.get(patientId) ?? { applied: 0, conflicts: 0, rejected: 0, replays: 0 };
    t[k]++;
    perPatient.set(patientId, t);
  };

  const hashes = new Map<Mutation, string>(mutations.map((m) => [m, payloadHash(m)]));
  for (const m of mutations) {
    const env = m.envelope;
    // Access first, on every path: a replay or a conflict answer carries the record's envelope and
    // metadata, so it is served only to a caller who may write that patient now, and audited alike.
    if (!allowed.has(env.patientId)) {
      const message = mayWriteRecords(who) ? 'Patient is outside your care teams.' : 'Your role does not write records.';
      results.push({ mutationId: m.mutationId, status: 'rejected', code: ErrorCode.FORBIDDEN, message });
      tally(env.patientId, 'rejected');
      continue;
    }
    const dup = known.get(m.mutationId);
    if (dup && !sameMutation(dup, who, m, hashes.get(m)!)) {
      results.push({ mutationId: m.mutationId, status: 'rejected', code: ErrorCode.CONFLICT, message: 'This mutation id was already used for a different change; use a new id.' });
      tally(env.patientId, 'rejected');
      continue;
    }
    const dupHead = heads.get(env.recordId);
    if (dup?.conflicted && dupHead) {
      // A replayed conflicting mutation is still a conflict (its copy is already kept): report the current head again.
      results.push({ mutationId: m.mutationId, status: 'conflict', serverVersion: dupHead.version, serverEnvelope: rowToEnvelope(dupHead), serverMeta: rowToMeta(dupHead) });
      tally(env.patientId, 'replays');
      continue;
    }
    if (dup) {
      results.push({ mutationId: m.mutationId, status: 'duplicate', version: dup.version });
      tally(env.patientId, 'replays');
      continue;
    }
    const head = heads.get(env.recordId);
    if (env.version !== m.baseVersion + 1 || (head && (head.patient_id !== env.patientId || head.resource_type !== env.resourceType))) {
      results.push({ mutationId: m.mutationId, status: 'rejected', code: ErrorCode.INVALID, message: 'Envelope binding does not match the record (version, patient or type).' });
      tally(env.patientId, 'rejected');
      continue;
    }
    const current = head?.version ?? 0;
    if (m.baseVersion !== current) {
      if (!head) {
        results.push({ mutationId: m.mutationId, status: 'rejected', code: ErrorCode.NOT_FOUND, message: 'No such record version on the server.' });
        tally(env.patientId, 'rejected');
        continue;
      }
      conflicts.push({ m, serverVersion: current });
      results.push({ mutationId: m.mutationId, status: 'conflict', serverVersion: current, serverEnvelope: rowToEnvelope(head), serverMeta: rowToMeta(head) });
      tally(env.patientId, 'conflicts');
      known.set(m.mutationId, { recordId: env.recordId, version: current, conflicted: true, deviceId: who.deviceId, userId: who.userId, payloadHash: hashes.get(m)! });
      continue;
    }
    const row: RecordRow = {
      record_id: env.recordId, patient_id: env.patientId, resource_type: env.resourceType, version: env.version,
      key_id: env.keyId, nonce: env.nonce, ct: env.ct, tag: env.tag, deleted: m.op === 'delete',
      author_user_id: who.userId, device_id: who.deviceId, updated_at: now,
    };
    heads.set(env.recordId, row);
    changed.set(env.recordId, row);
    known.set(m.mutationId, { recordId: env.recordId, version: env.version, conflicted: false, deviceId: who.deviceId, userId: who.userId, payloadHash: hashes.get(m)! });
    applied.push({ mutationId: m.mutationId, recordId: env.recordId, version: env.version, hash: hashes.get(m)! });
    results.push({ mutationId: m.mutationId, status: 'applied', version: env.version });
    tally(env.patientId, 'applied');
  }

  await records.upsert(sql, [...changed.values()]);
  await mutationStore.insertMany(sql, [
    ...applied.map((a) => ({ ...a, status: 'applied' as const })),
    ...conflicts.map((c) => ({ mutationId: c.m.mutationId, recordId: c.m.envelope.recordId, version: c.serverVersion, status: 'conflict' as const, hash: hashes.get(c.m)! })),
  ], who, now);
  await mutationStore.keepConflicts(
    sql, conflicts.map((c) => ({ mutationId: c.m.mutationId, baseVersion: c.m.baseVersion, serverVersion: c.serverVersion, envelope: c.m.envelope })), who, now,
  );
  const audit: ServerAuditEntry[] = [...perPatient.entries()].map(([patientId, t]) => ({
    type: t.rejected ? 'sync-push-refused' : 'sync-push', action: 'U', outcome: t.rejected ? 'denied' : 'success',
    severity: t.rejected ? 'medium' : 'info', userId: who.userId, deviceId: who.deviceId, patientId, correlationId, detail: t,
  }));
  await writeAuditMany(sql, audit);
  return results;
}
