/**
 * The privacy officer's reads across both audit tables — the server's own rows (server_audit) and
 * the workstations' ingested chains (device_audit) — as one trail, newest first.
 */
import type { z } from 'zod';
import type { AuditQuerySchema, AuditRow } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export type AuditQuery = z.output<typeof AuditQuerySchema>;

/** Narrows the query to one type and one detail.subjectId (the review queue's export of dispositions). */
export interface AuditQueryExtra {
  type?: string;
  subjectId?: string;
}

interface TrailRow {
  source: 'server' | 'device'; id: string; at: Date; device_id: string | null; user_id: string | null; patient_id: string | null;
  type: string; action: AuditRow['action']; outcome: string; severity: string; correlation_id: string | null; detail: AuditRow['detail'];
}

/** By patient, user, time and source; device rows carry their chain coordinates (seq, hash) as detail. */
export async function search(sql: Sql, q: AuditQuery, extra: AuditQueryExtra = {}): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: string) => string, v: unknown) => {
    params.push(v);
    where.push(clause(`$${params.length}`));
  };
  if (q.patientId) add((n) => `patient_id = ${n}`, q.patientId);
  if (q.userId) add((n) => `user_id = ${n}`, q.userId);
  if (q.from) add((n) => `at >= ${n}`, new Date(q.from));
  if (q.to) add((n) => `at < ${n}`, new Date(q.to));
  if (extra.type) add((n) => `type = ${n}`, extra.type);
  if (extra.subjectId) add((n) => `detail->>'subjectId' = ${n}`, extra.subjectId);
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const parts: string[] = [];
  if (q.source !== 'device') {
    parts.push(`SELECT 'server' AS source, id::text AS id, at, device_id, user_id, patient_id, type, action, outcome, severity, correlation_id, detail FROM server_audit ${cond}`);
  }
  if (q.source !== 'server') {
    parts.push(`SELECT 'device' AS source, device_id || ':' || seq::text AS id, at, device_id, user_id, patient_id, type, action, outcome, severity, correlation_id,
                jsonb_build_object('seq', seq, 'hash', hash) AS detail FROM device_audit ${cond}`);
  }
  const rows = await sql.query<TrailRow>(`${parts.join(' UNION ALL ')} ORDER BY at DESC, id DESC LIMIT $${params.length + 1}`, [...params, q.limit]);
  return rows.map((r) => ({
    source: r.source, id: r.id, at: new Date(r.at).toISOString(), deviceId: r.device_id, userId: r.user_id, patientId: r.patient_id,
    type: r.type, action: r.action, outcome: r.outcome, severity: r.severity, correlationId: r.correlation_id, detail: r.detail ?? null,
  }));
}

export interface ReadRow {
  source: 'device' | 'server';
  at: Date;
  type: string;
  action: string;
  device_id: string | null;
  /** The device entry's resourceRefs as stored (JSON), null on server rows. */
  refs: unknown;
}

/**
 * Reads (action R) by one user — of one patient when given — in a window. Device rows are matched
 * to a window of their own (the caller widens it by the workstations' clock skew); server rows use
 * the server's clock and must name a patient.
 */
export async function readsBy(
  sql: Sql,
  who: { userId: string; patientId: string | null },
  server: { from: Date; to: Date },
  device: { from: Date; to: Date },
): Promise<ReadRow[]> {
  return sql.query<ReadRow>(
    `SELECT 'device' AS source, at, type, action, device_id, entry->'resourceRefs' AS refs FROM device_audit
      WHERE user_id = $1 AND ($2::text IS NULL OR patient_id = $2) AND at >= $5 AND at <= $6 AND action = 'R'
     UNION ALL
     SELECT 'server' AS source, at, type, action, device_id, NULL::jsonb AS refs FROM server_audit
      WHERE user_id = $1 AND ($2::text IS NULL OR patient_id = $2) AND at >= $3 AND at <= $4 AND action = 'R' AND patient_id IS NOT NULL
     ORDER BY at LIMIT 1000`,
    [who.userId, who.patientId, server.from, server.to, device.from, device.to],
  );
}
