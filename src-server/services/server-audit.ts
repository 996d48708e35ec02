/**
 * The server's own audit trail (append-only table server_audit): logins, token events, key access,
 * pulls, refusals, break-glass, admin changes. Ids and codes only; `detail` is ids and counts.
 * One writer, so every entry has the same shape and the FHIR export maps them all.
 */
import type { Sql } from '../db/db';
import type { SafeDetail } from '../../src-shared/errors';

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

export async function writeAudit(sql: Sql, e: ServerAuditEntry): Promise<void> {
  await writeAuditMany(sql, [e]);
}

/** One INSERT for many rows (a pull touching many patients writes one row per patient). */
export async function writeAuditMany(sql: Sql, entries: readonly ServerAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const col = <K extends keyof ServerAuditEntry>(k: K) => entries.map((e) => e[k] ?? null);
  await sql.query(
    `INSERT INTO server_audit (type, action, outcome, severity, user_id, device_id, patient_id, correlation_id, detail)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
    [
      col('type'),
      col('action'),
      col('outcome'),
      col('severity'),
      col('userId'),
      col('deviceId'),
      col('patientId'),
      col('correlationId'),
      entries.map((e) => (e.detail ? JSON.stringify(e.detail) : null)),
    ],
  );
}
