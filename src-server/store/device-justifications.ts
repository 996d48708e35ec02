/**
 * device_break_glass_justifications: the free text of a break-glass granted OFFLINE, delivered
 * after its audit entry and keyed like it (device, seq). The text arrives here sealed with the
 * notes key; `alert_id` links the alert raised at ingest (null when ingest matched the entry to an
 * online grant, which has an alert of its own).
 */
import type { SafeDetail } from '../../src-shared/errors';
import type { Sql } from '../db/db';

export interface NewJustification {
  deviceId: string;
  seq: number;
  userId: string;
  patientId: string;
  reason: string;
  correlationId: string;
  justificationSealed: string;
  alertId: string | null;
}

/** Stores the first delivery for an entry; false when one is already stored (nothing changed). */
export async function insertFirst(sql: Sql, j: NewJustification): Promise<boolean> {
  const inserted = await sql.query(
    `INSERT INTO device_break_glass_justifications (device_id, seq, user_id, patient_id, reason, correlation_id, justification_sealed, alert_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (device_id, seq) DO NOTHING RETURNING seq`,
    [j.deviceId, j.seq, j.userId, j.patientId, j.reason, j.correlationId, j.justificationSealed, j.alertId],
  );
  return inserted.length > 0;
}

export async function sealedOf(sql: Sql, deviceId: string, seq: number): Promise<string | null> {
  const [row] = await sql.query<{ justification_sealed: string }>(
    'SELECT justification_sealed FROM device_break_glass_justifications WHERE device_id = $1 AND seq = $2',
    [deviceId, seq],
  );
  return row?.justification_sealed ?? null;
}

/**
 * An offline grant as the privacy officer reviews it: its alert (null for a justification whose
 * entry ingest matched to an online grant) and its delivered justification (null until it arrives).
 */
export interface OfflineGrantRow {
  alert_id: string | null; severity: 'medium' | 'high' | null; user_id: string | null; patient_id: string | null;
  detail: SafeDetail | null; acknowledged_at: Date | null; acknowledged_by: string | null; note_sealed: string | null;
  j_device_id: string | null; j_seq: string | number | null; j_reason: string | null; j_correlation_id: string | null;
  justification_sealed: string | null; received_at: Date | null; entry_at: Date | null;
}

/** Every break-glass alert raised from a device entry, newest first, with its justification when delivered. */
export async function alertedGrants(sql: Sql, limit: number): Promise<OfflineGrantRow[]> {
  return sql.query<OfflineGrantRow>(
    `SELECT a.id AS alert_id, a.severity, a.user_id, a.patient_id, a.detail, a.acknowledged_at, a.acknowledged_by, a.note_sealed,
            j.device_id AS j_device_id, j.seq AS j_seq, j.reason AS j_reason, j.correlation_id AS j_correlation_id,
            j.justification_sealed, j.received_at, NULL::timestamptz AS entry_at
       FROM alerts a
       LEFT JOIN device_break_glass_justifications j ON j.device_id = a.detail->>'deviceId' AND j.seq::text = a.detail->>'seq'
      WHERE a.kind = 'break-glass' AND a.detail->>'source' = 'device'
      ORDER BY a.created_at DESC, a.id DESC LIMIT $1::int`,
    [limit],
  );
}

/** Justifications with no alert of their own (their entry was an online grant's), newest first, with the entry's time. */
export async function unalertedGrants(sql: Sql, limit: number): Promise<OfflineGrantRow[]> {
  return sql.query<OfflineGrantRow>(
    `SELECT NULL AS alert_id, NULL AS severity, j.user_id, j.patient_id, NULL::jsonb AS detail, NULL::timestamptz AS acknowledged_at,
            NULL AS acknowledged_by, NULL AS note_sealed, j.device_id AS j_device_id, j.seq AS j_seq, j.reason AS j_reason,
            j.correlation_id AS j_correlation_id, j.justification_sealed, j.received_at, d.at AS entry_at
       FROM device_break_glass_justifications j
       LEFT JOIN device_audit d ON d.device_id = j.device_id AND d.seq = j.seq
      WHERE j.alert_id IS NULL ORDER BY j.received_at DESC LIMIT $1::int`,
    [limit],
  );
}
