/**
 * The server's own audit trail (append-only table server_audit): logins, token events, key access,
 * pulls, refusals, break-glass, admin changes. Ids and codes only; `detail` is ids and counts.
 * One writer, so every entry has the same shape and the FHIR export maps them all.
 */
import type { Sql } from '../db/db';
import * as serverAudit from '../store/server-audit';

export type { ServerAuditEntry } from '../store/server-audit';

export async function writeAudit(sql: Sql, e: serverAudit.ServerAuditEntry): Promise<void> {
  await serverAudit.insertMany(sql, [e]);
}

/** One INSERT for many rows (a pull touching many patients writes one row per patient). */
export async function writeAuditMany(sql: Sql, entries: readonly serverAudit.ServerAuditEntry[]): Promise<void> {
  await serverAudit.insertMany(sql, entries);
}
