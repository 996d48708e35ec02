/**
 * alerts: what the privacy officer is told (break-glass, access-rate, refused reports, ...). Ids
 * and codes only in `detail`; the officer's acknowledgement note is sealed before it gets here.
 * Break-glass alerts are found again by the device entry they came from (detail.deviceId +
 * detail.seq), which is how a device's chain and the server's alerts are matched.
 */
import type { SafeDetail } from '../../src-shared/errors';
import type { Alert } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export interface AlertRow {
  id: string;
  kind: Alert['kind'];
  severity: Alert['severity'];
  user_id: string | null;
  patient_id: string | null;
  detail: SafeDetail;
  created_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  note_sealed: string | null;
}

export interface NewAlertRow {
  id: string;
  kind: string;
  severity: 'medium' | 'high';
  userId: string | null;
  patientId: string | null;
  detail: SafeDetail;
}

export async function insert(sql: Sql, a: NewAlertRow): Promise<void> {
  await sql.query('INSERT INTO alerts (id, kind, severity, user_id, patient_id, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
    a.id, a.kind, a.severity, a.userId, a.patientId, JSON.stringify(a.detail),
  ]);
}

/** Newest first; `open` keeps the ones not yet acknowledged. */
export async function list(sql: Sql, opts: { open: boolean; limit: number }): Promise<AlertRow[]> {
  const open = opts.open ? 'WHERE acknowledged_at IS NULL' : '';
  return sql.query<AlertRow>(`SELECT * FROM alerts ${open} ORDER BY created_at DESC LIMIT $1::int`, [opts.limit]);
}

/** Every alert but break-glass (those are listed with their grants), newest first. */
export async function listExceptBreakGlass(sql: Sql, limit: number): Promise<AlertRow[]> {
  return sql.query<AlertRow>(`SELECT * FROM alerts WHERE kind <> 'break-glass' ORDER BY created_at DESC, id DESC LIMIT $1::int`, [limit]);
}

/** Records who acknowledged and when (the database's clock), with the sealed note; undefined when there is no such alert. */
export async function acknowledge(sql: Sql, id: string, by: string, noteSealed: string): Promise<AlertRow | undefined> {
  const [row] = await sql.query<AlertRow>(
    'UPDATE alerts SET acknowledged_at = now(), acknowledged_by = $2, note_sealed = $3 WHERE id = $1 RETURNING *',
    [id, by, noteSealed],
  );
  return row;
}

/** The (first) break-glass alert raised for this device entry, or null. */
export async function breakGlassOfEntry(sql: Sql, deviceId: string, seq: number): Promise<string | null> {
  const [row] = await sql.query<{ id: string }>(
    "SELECT id FROM alerts WHERE kind = 'break-glass' AND detail->>'deviceId' = $1 AND detail->>'seq' = $2 ORDER BY created_at LIMIT 1",
    [deviceId, String(seq)],
  );
  return row?.id ?? null;
}

/**
 * The newest break-glass alert of this user and patient raised for a grant made on this device
 * (online alerts name their device too) that has no end recorded yet, or null.
 */
export async function openBreakGlassOnDevice(sql: Sql, userId: string, patientId: string, deviceId: string): Promise<string | null> {
  const [row] = await sql.query<{ id: string }>(
    `SELECT id FROM alerts WHERE kind = 'break-glass' AND user_id = $1 AND patient_id = $2 AND detail->>'deviceId' = $3 AND detail->>'endedAt' IS NULL
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    [userId, patientId, deviceId],
  );
  return row?.id ?? null;
}

/** Adds keys to an alert's detail (jsonb ||: the given keys win, the others stay). */
export async function mergeDetail(sql: Sql, id: string, patch: SafeDetail): Promise<void> {
  await sql.query('UPDATE alerts SET detail = detail || $2::jsonb WHERE id = $1', [id, JSON.stringify(patch)]);
}
