/**
 * Visit recordings as sealed envelopes (docs/telemedicine.md). The server checks what it can
 * without opening anything — which recording, patient, resource type and version an envelope is
 * bound to — and who may store, read or delete it; every read, download, deletion and purge goes
 * into the append-only recording_access log and the server audit.
 */
import { createHash } from 'node:crypto';
import { hasCapability, rolesMayEver } from '../../src-shared/access';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { RECORDING_CHUNK_TYPE, RECORDING_META_TYPE, VISIT_LIMITS, type Recording, type RecordingAccess, type WireEnvelope } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Principal } from './tokens';
import { canSeePatient } from './access';
import { recordServerAccess } from './access-events';
import { writeAudit } from './server-audit';
import { hostedVisit } from './visits';
import * as recordings from '../store/recordings';

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

export function toRecording(r: recordings.RecordingRow): Recording {
  return {
    recordingId: r.id,
    visitId: r.visit_id,
    patientId: r.patient_id,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
    status: r.status,
    chunkCount: r.chunk_count,
    meta: r.status === 'deleted' ? null : r.meta,
    deleteAfter: iso(r.delete_after),
  };
}

const notFound = () => new EhrError(ErrorCode.NOT_FOUND, 'No such recording.');
const envelopeHash = (e: WireEnvelope): string => createHash('sha256').update(`${e.keyId}.${e.nonce}.${e.ct}.${e.tag}`).digest('hex');

function bound(e: WireEnvelope, want: { recordingId: string; patientId: string; resourceType: string; version: number }): boolean {
  return e.recordId === want.recordingId && e.patientId === want.patientId && e.resourceType === want.resourceType && e.version === want.version;
}

export async function startRecording(ctx: ServerContext, who: Principal, visitId: string, recordingId: string, meta: WireEnvelope, correlationId: string): Promise<Recording> {
  const v = await hostedVisit(ctx, who, visitId, { open: true });
  if (v.recording_consent !== true) throw new EhrError(ErrorCode.FORBIDDEN, 'The patient has not consented to recording this visit.');
  if (!bound(meta, { recordingId, patientId: v.patient_id, resourceType: RECORDING_META_TYPE, version: 1 })) {
    throw new EhrError(ErrorCode.INVALID, 'The recording metadata envelope is not bound to this recording.');
  }
  const now = ctx.now();
  const deleteAfter = new Date(now.getTime() + ctx.config.recordingRetentionDays * 86_400_000);
  const row = await ctx.db.tx(async (sql) => {
    const inserted = await recordings.insert(sql, { id: recordingId, visitId, patientId: v.patient_id, createdBy: who.userId, at: now, meta, deleteAfter });
    if (!inserted) return null;
    await recordings.logAccess(sql, { recordingId, patientId: v.patient_id, userId: who.userId, action: 'record', at: now, deviceId: who.deviceId });
    await writeAudit(sql, { type: 'recording-start', action: 'C', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId: v.patient_id, correlationId, detail: { visitId, recordingId } });
    return inserted;
  });
  if (row) return toRecording(row);
  // The same id again: an idempotent retry of the same start, or a clash.
  const existing = await recordings.byId(ctx.db, recordingId);
  if (existing && existing.visit_id === visitId && existing.created_by === who.userId) return toRecording(existing);
  throw new EhrError(ErrorCode.CONFLICT, 'That recording id is taken.');
}

/** A recording its creator is still writing. */
async function ownRecording(ctx: ServerContext, who: Principal, recordingId: string): Promise<recordings.RecordingRow> {
  const r = await recordings.byId(ctx.db, recordingId);
  if (!r || r.created_by !== who.userId) throw notFound();
  return r;
}

export async function putChunk(ctx: ServerContext, who: Principal, recordingId: string, seq: number, envelope: WireEnvelope): Promise<void> {
  if (seq >= VISIT_LIMITS.chunksPerRecording) throw new EhrError(ErrorCode.TOO_LARGE, 'The recording has too many chunks.', { limit: VISIT_LIMITS.chunksPerRecording });
  const r = await ownRecording(ctx, who, recordingId);
  if (r.status === 'deleted') throw new EhrError(ErrorCode.CONFLICT, 'The recording was deleted.');
  if (!bound(envelope, { recordingId, patientId: r.patient_id, resourceType: RECORDING_CHUNK_TYPE, version: seq + 1 })) {
    throw new EhrError(ErrorCode.INVALID, 'The chunk envelope is not bound to this recording and position.', { seq });
  }
  const outcome = await recordings.putChunk(ctx.db, recordingId, seq, envelope, envelopeHash(envelope));
  if (outcome === 'different') throw new EhrError(ErrorCode.CONFLICT, 'A different chunk is already stored at this position.', { seq });
  if (outcome === 'stored' && r.status === 'complete') throw new EhrError(ErrorCode.CONFLICT, 'The recording is complete.');
}

export async function finishRecording(ctx: ServerContext, who: Principal, recordingId: string, chunkCount: number, correlationId: string): Promise<Recording> {
  const r = await ownRecording(ctx, who, recordingId);
  if (r.status === 'deleted') throw new EhrError(ErrorCode.CONFLICT, 'The recording was deleted.');
  const stored = await recordings.storedBelow(ctx.db, recordingId, chunkCount);
  if (stored !== chunkCount) throw new EhrError(ErrorCode.CONFLICT, 'Some chunks of the recording are missing.', { expected: chunkCount, stored });
  const row = await recordings.complete(ctx.db, recordingId, chunkCount);
  if (!row) throw notFound();
  await writeAudit(ctx.db, { type: 'recording-finish', action: 'U', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId: r.patient_id, correlationId, detail: { recordingId, chunkCount } });
  return toRecording(row);
}

async function ensurePatientAccess(ctx: ServerContext, who: Principal, patientId: string, correlationId: string, what: string): Promise<void> {
  // Recordings are chart data: the role must be able to read Media (the shared evaluator the workstation
  // uses too; billing and the privacy officer cannot) and the care-team / break-glass rule applies.
  const clinical = rolesMayEver(who.roles, 'r', ['Media']);
  if (clinical && (await canSeePatient(ctx.db, who.userId, patientId, ctx.now()))) return;
  await writeAudit(ctx.db, { type: what, action: 'R', outcome: 'denied', severity: 'medium', userId: who.userId, deviceId: who.deviceId, patientId, correlationId, detail: { why: clinical ? 'patient-access' : 'role' } });
  throw new EhrError(ErrorCode.FORBIDDEN, 'You do not have access to this patient.');
}

export async function listRecordings(ctx: ServerContext, who: Principal, patientId: string, correlationId: string): Promise<Recording[]> {
  await ensurePatientAccess(ctx, who, patientId, correlationId, 'recording-list');
  const rows = await recordings.ofPatient(ctx.db, patientId);
  await writeAudit(ctx.db, { type: 'recording-list', action: 'R', outcome: 'success', severity: 'info', userId: who.userId, deviceId: who.deviceId, patientId, correlationId, detail: { count: rows.length } });
  return rows.map(toRecording);
}

export async function readChunks(
  ctx: ServerContext, who: Principal, recordingId: string, q: { from: number; limit: number; purpose: 'view' | 'download' }, correlationId: string,
): Promise<Array<{ seq: number; envelope: WireEnvelope }>> {
  const r = await recordings.byId(ctx.db, recordingId);
  if (!r) throw notFound();
  await ensurePatientAccess(ctx, who, r.patient_id, correlationId, `recording-${q.purpose}`);
  if (r.status === 'deleted') throw new EhrError(ErrorCode.NOT_FOUND, 'The recording was deleted.');
  const now = ctx.now();
  const page = await recordings.chunks(ctx.db, recordingId, q.from, q.limit);
  await ctx.db.tx(async (sql) => {
    if (q.from === 0) {
      await recordings.logAccess(sql, { recordingId, patientId: r.patient_id, userId: who.userId, action: q.purpose, at: now, deviceId: who.deviceId });
      await recordServerAccess(sql, { userId: who.userId, patientId: r.patient_id, deviceId: who.deviceId, kind: 'chart-pull' }, now);
    }
    await writeAudit(sql, {
      type: `recording-${q.purpose}`, action: 'R', outcome: 'success', severity: q.purpose === 'download' ? 'medium' : 'info', userId: who.userId, deviceId: who.deviceId,
      patientId: r.patient_id, correlationId, detail: { recordingId, from: q.from, chunks: page.length },
    });
  });
  return page.map((c) => ({ seq: Number(c.seq), envelope: c.envelope }));
}

export async function deleteRecording(ctx: ServerContext, who: Principal, recordingId: string, reason: string, correlationId: string): Promise<Recording> {
  const r = await recordings.byId(ctx.db, recordingId);
  if (!r) throw notFound();
  const officer = who.roles.includes('privacy_officer') && hasCapability(who.roles, 'recording:delete');
  const host = r.created_by === who.userId && hasCapability(who.roles, 'recording:delete');
  if (!officer && !host) {
    await writeAudit(ctx.db, { type: 'recording-delete', action: 'D', outcome: 'denied', severity: 'medium', userId: who.userId, deviceId: who.deviceId, patientId: r.patient_id, correlationId, detail: { recordingId } });
    throw new EhrError(ErrorCode.FORBIDDEN, 'Only the recording physician or a privacy officer may delete a recording.');
  }
  const now = ctx.now();
  const row = await ctx.db.tx(async (sql) => {
    const erased = await recordings.erase(sql, recordingId, who.userId, now);
    if (erased) {
      await recordings.logAccess(sql, { recordingId, patientId: r.patient_id, userId: who.userId, action: 'delete', at: now, deviceId: who.deviceId });
      // The reason is free text: its length is audited, not its words (it may name the patient).
      await writeAudit(sql, { type: 'recording-delete', action: 'D', outcome: 'success', severity: 'medium', userId: who.userId, deviceId: who.deviceId, patientId: r.patient_id, correlationId, detail: { recordingId, reasonChars: reason.length } });
    }
    return erased ?? (await recordings.byId(sql, recordingId));
  });
  return toRecording(row!);
}

/** Retention: erases every recording past its deleteAfter (a batch per call). */
export async function purgeExpiredRecordings(ctx: ServerContext, batch = 100): Promise<number> {
  const now = ctx.now();
  const due = await recordings.expired(ctx.db, now, batch);
  for (const r of due) {
    await ctx.db.tx(async (sql) => {
      if (!(await recordings.erase(sql, r.id, 'retention', now))) return;
      await recordings.logAccess(sql, { recordingId: r.id, patientId: r.patient_id, userId: 'retention', action: 'purge', at: now, deviceId: null });
      await writeAudit(sql, { type: 'recording-purge', action: 'D', outcome: 'success', severity: 'info', userId: null, patientId: r.patient_id, detail: { recordingId: r.id } });
    });
  }
  return due.length;
}

export async function accessLog(ctx: ServerContext, q: { recordingId?: string | undefined; patientId?: string | undefined; limit: number }): Promise<RecordingAccess[]> {
  const rows = await recordings.accessLog(ctx.db, { limit: q.limit, ...(q.recordingId ? { recordingId: q.recordingId } : {}), ...(q.patientId ? { patientId: q.patientId } : {}) });
  return rows.map((a) => ({ recordingId: a.recording_id, patientId: a.patient_id, userId: a.user_id, action: a.action, at: new Date(a.at).toISOString(), deviceId: a.device_id }));
}
