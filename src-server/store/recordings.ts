/**
 * recordings, recording_chunks and recording_access: sealed visit recordings (envelopes only; the
 * server cannot open them) and the append-only log of who recorded, viewed, downloaded, deleted or
 * purged which recording.
 */
import type { WireEnvelope } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export interface RecordingRow {
  id: string;
  visit_id: string;
  patient_id: string;
  created_by: string;
  created_at: Date;
  status: 'recording' | 'complete' | 'deleted';
  chunk_count: number;
  meta: WireEnvelope | null;
  delete_after: Date | null;
  deleted_at: Date | null;
  deleted_by: string | null;
}

export type RecordingAction = 'record' | 'view' | 'download' | 'delete' | 'purge';

export async function insert(
  sql: Sql,
  r: { id: string; visitId: string; patientId: string; createdBy: string; at: Date; meta: WireEnvelope; deleteAfter: Date },
): Promise<RecordingRow | null> {
  const [row] = await sql.query<RecordingRow>(
    `INSERT INTO recordings (id, visit_id, patient_id, created_by, created_at, status, meta, delete_after)
     VALUES ($1, $2, $3, $4, $5, 'recording', $6, $7) ON CONFLICT (id) DO NOTHING RETURNING *`,
    [r.id, r.visitId, r.patientId, r.createdBy, r.at, JSON.stringify(r.meta), r.deleteAfter],
  );
  return row ?? null;
}

export async function byId(sql: Sql, id: string): Promise<RecordingRow | null> {
  const [row] = await sql.query<RecordingRow>('SELECT * FROM recordings WHERE id = $1', [id]);
  return row ?? null;
}

export async function ofPatient(sql: Sql, patientId: string): Promise<RecordingRow[]> {
  return sql.query<RecordingRow>('SELECT * FROM recordings WHERE patient_id = $1 ORDER BY created_at DESC, id', [patientId]);
}

/** Stores a chunk once: 'stored' (new), 'same' (identical replay) or 'different' (another chunk already holds that seq). */
export async function putChunk(sql: Sql, recordingId: string, seq: number, envelope: WireEnvelope, hash: string): Promise<'stored' | 'same' | 'different'> {
  const inserted = await sql.query(
    'INSERT INTO recording_chunks (recording_id, seq, envelope, envelope_hash) VALUES ($1, $2, $3, $4) ON CONFLICT (recording_id, seq) DO NOTHING RETURNING seq',
    [recordingId, seq, JSON.stringify(envelope), hash],
  );
  if (inserted.length > 0) return 'stored';
  const [existing] = await sql.query<{ envelope_hash: string }>('SELECT envelope_hash FROM recording_chunks WHERE recording_id = $1 AND seq = $2', [recordingId, seq]);
  return existing?.envelope_hash === hash ? 'same' : 'different';
}

/** How many of seqs 0..n-1 are stored. */
export async function storedBelow(sql: Sql, recordingId: string, n: number): Promise<number> {
  const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM recording_chunks WHERE recording_id = $1 AND seq < $2', [recordingId, n]);
  return Number(row?.n ?? 0);
}

export async function complete(sql: Sql, id: string, chunkCount: number): Promise<RecordingRow | null> {
  const [row] = await sql.query<RecordingRow>(
    "UPDATE recordings SET status = 'complete', chunk_count = $2 WHERE id = $1 AND status IN ('recording', 'complete') RETURNING *",
    [id, chunkCount],
  );
  return row ?? null;
}

export async function chunks(sql: Sql, recordingId: string, from: number, limit: number): Promise<Array<{ seq: number; envelope: WireEnvelope }>> {
  return sql.query<{ seq: number; envelope: WireEnvelope }>(
    'SELECT seq, envelope FROM recording_chunks WHERE recording_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3',
    [recordingId, from, limit],
  );
}

/** Erases the chunks and the sealed metadata; the row stays as a tombstone (who, when). */
export async function erase(sql: Sql, id: string, by: string, at: Date): Promise<RecordingRow | null> {
  await sql.query('DELETE FROM recording_chunks WHERE recording_id = $1', [id]);
  const [row] = await sql.query<RecordingRow>(
    "UPDATE recordings SET status = 'deleted', meta = NULL, deleted_at = $3, deleted_by = $2 WHERE id = $1 AND status <> 'deleted' RETURNING *",
    [id, by, at],
  );
  return row ?? null;
}

export async function expired(sql: Sql, now: Date, limit: number): Promise<RecordingRow[]> {
  return sql.query<RecordingRow>("SELECT * FROM recordings WHERE status <> 'deleted' AND delete_after <= $1 ORDER BY delete_after LIMIT $2", [now, limit]);
}

export async function logAccess(sql: Sql, a: { recordingId: string; patientId: string; userId: string; action: RecordingAction; at: Date; deviceId: string | null }): Promise<void> {
  await sql.query('INSERT INTO recording_access (recording_id, patient_id, user_id, action, at, device_id) VALUES ($1, $2, $3, $4, $5, $6)', [
    a.recordingId, a.patientId, a.userId, a.action, a.at, a.deviceId,
  ]);
}

export interface AccessRow {
  recording_id: string;
  patient_id: string;
  user_id: string;
  action: RecordingAction;
  at: Date;
  device_id: string | null;
}

export async function accessLog(sql: Sql, q: { recordingId?: string; patientId?: string; limit: number }): Promise<AccessRow[]> {
  return sql.query<AccessRow>(
    `SELECT recording_id, patient_id, user_id, action, at, device_id FROM recording_access
      WHERE ($1::text IS NULL OR recording_id = $1) AND ($2::text IS NULL OR patient_id = $2) ORDER BY id DESC LIMIT $3`,
    [q.recordingId ?? null, q.patientId ?? null, q.limit],
  );
}
