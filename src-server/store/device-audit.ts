/**
 * device_audit: each workstation's signed, hash-chained audit entries as ingested (append-only: a
 * trigger and the application role's grants refuse UPDATE and DELETE). Keyed by (device, seq);
 * the chain is verified before anything is written here (services/audit-ingest.ts).
 */
import type { WireAuditEntry, WireAuditLink } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export interface ChainHead {
  seq: number;
  hash: string;
}

/** The device's newest stored entry, or null before its first batch. */
export async function head(sql: Sql, deviceId: string): Promise<ChainHead | null> {
  const [row] = await sql.query<{ head_seq: string; hash: string }>(
    'SELECT seq::text AS head_seq, hash FROM device_audit WHERE device_id = $1 ORDER BY device_audit.seq DESC LIMIT 1',
    [deviceId],
  );
  return row ? { seq: Number(row.head_seq), hash: row.hash } : null;
}

/** The stored hash of each of these seqs that the server holds (to tell a retry from a fork). */
export async function hashesAt(sql: Sql, deviceId: string, seqs: readonly number[]): Promise<Map<number, string>> {
  const rows = await sql.query<{ seq: string; hash: string }>(
    'SELECT seq::text AS seq, hash FROM device_audit WHERE device_id = $1 AND seq = ANY($2::bigint[])',
    [deviceId, [...seqs]],
  );
  return new Map(rows.map((r) => [Number(r.seq), r.hash]));
}

/** One entry to store: its columns, and the link exactly as the device sent it (kept whole in `entry`). */
export interface StoredEntry {
  columns: WireAuditEntry;
  sent: WireAuditLink;
}

/** Appends a verified batch in one INSERT. */
export async function append(sql: Sql, deviceId: string, batch: readonly StoredEntry[]): Promise<void> {
  const col = <T>(f: (e: WireAuditEntry) => T) => batch.map((b) => f(b.columns));
  await sql.query(
    `INSERT INTO device_audit (device_id, seq, hash, prev_hash, at, type, action, outcome, severity, user_id, patient_id, correlation_id, entry)
     SELECT $1, s, h, p, a, t, ac, o, sv, u, pt, c, e::jsonb
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         AS x(s, h, p, a, t, ac, o, sv, u, pt, c, e)`,
    [
      deviceId, col((e) => e.seq), col((e) => e.hash), col((e) => e.prevHash), col((e) => e.at), col((e) => e.type), col((e) => e.action),
      col((e) => e.outcome), col((e) => e.severity), col((e) => e.userId), col((e) => e.patientId ?? null), col((e) => e.correlationId),
      batch.map((b) => JSON.stringify(b.sent)),
    ],
  );
}

export interface EntrySummary {
  type: string;
  outcome: string;
  user_id: string | null;
  patient_id: string | null;
  correlation_id: string | null;
  /** The entry's reasonCode (an ActReason on break-glass entries). */
  reason: string | null;
}

/** What one ingested entry says (who, whom, what, why), or undefined when it is not stored. */
export async function entryAt(sql: Sql, deviceId: string, seq: number): Promise<EntrySummary | undefined> {
  const [row] = await sql.query<EntrySummary>(
    `SELECT type, outcome, user_id, patient_id, correlation_id, entry->>'reasonCode' AS reason
       FROM device_audit WHERE device_id = $1 AND seq = $2`,
    [deviceId, seq],
  );
  return row;
}
