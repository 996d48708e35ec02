/**
 * server_audit: the server's own append-only trail (a trigger and the application role's grants
 * refuse UPDATE and DELETE). Rows go in through services/server-audit.ts, the one writer; the
 * privacy officer's reads across this table and device_audit are in audit-trail.ts.
 */
import type { SafeDetail } from '../../src-shared/errors';
import type { Sql } from '../db/db';

export interface ServerAuditEntry {
  type: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  outcome: 'success' | 'failure' | 'denied';
  severity: 'info' | 'medium' | 'high';
  userId?: string | null | undefined;
  deviceId?: string | null | undefined;
  patientId?: string | null | undefined;
  correlationId?: string | null | undefined;
  detail?: SafeDetail | undefined;
}

/** One INSERT for many rows (a pull touching many patients writes one row per patient). */
export async function insertMany(sql: Sql, entries: readonly ServerAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const col = <K extends keyof ServerAuditEntry>(k: K) => entries.map((e) => e[k] ?? null);
  await sql.query(
    `INSERT INTO server_audit (type, action, outcome, severity, user_id, device_id, patient_id, correlation_id, detail)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
    [
      col('type'), col('action'), col('outcome'), col('severity'), col('userId'), col('deviceId'), col('patientId'), col('correlationId'),
      entries.map((e) => (e.detail ? JSON.stringify(e.detail) : null)),
    ],
  );
}

/** Whose online break-glass this is: the user, the patient and the device it was granted from. */
export interface GrantParty {
  userId: string;
  patientId: string;
  deviceId: string;
}

/** Was an online break-glass granted under this correlation id (the one its device entry carries)? */
export async function hasBreakGlassStartWithCorrelation(sql: Sql, party: GrantParty, correlationId: string): Promise<boolean> {
  const rows = await sql.query(
    `SELECT 1 AS n FROM server_audit
      WHERE type = 'break-glass-start' AND outcome = 'success' AND correlation_id = $1 AND user_id = $2 AND patient_id = $3 AND device_id = $4 LIMIT 1`,
    [correlationId, party.userId, party.patientId, party.deviceId],
  );
  return rows.length > 0;
}

/** Was an online break-glass granted to this party between from and to (an older client's entry, matched by time)? */
export async function hasBreakGlassStartBetween(sql: Sql, party: GrantParty, from: Date, to: Date): Promise<boolean> {
  const rows = await sql.query(
    `SELECT 1 AS n FROM server_audit
      WHERE type = 'break-glass-start' AND outcome = 'success' AND user_id = $1 AND patient_id = $2 AND device_id = $5 AND at BETWEEN $3 AND $4 LIMIT 1`,
    [party.userId, party.patientId, from, to, party.deviceId],
  );
  return rows.length > 0;
}

export interface RefusedJustificationRow {
  id: string;
  at: Date;
  user_id: string | null;
  device_id: string | null;
  patient_id: string | null;
  severity: string;
  outcome: string;
  detail: SafeDetail | null;
}

/** Refused deliveries of offline justifications, newest first (the review queue lists them). */
export async function refusedJustifications(sql: Sql, limit: number): Promise<RefusedJustificationRow[]> {
  return sql.query<RefusedJustificationRow>(
    `SELECT id::text AS id, at, user_id, device_id, patient_id, severity, outcome, detail FROM server_audit
      WHERE type = 'break-glass-justification' AND outcome <> 'success' ORDER BY at DESC, id DESC LIMIT $1::int`,
    [limit],
  );
}
