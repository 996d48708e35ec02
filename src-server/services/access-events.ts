/**
 * What the access-rate monitor counts: one row per patient access, timed by the SERVER.
 * - source 'server': what this server served itself, keyed by the authenticated user — key
 *   unwraps beyond a workstation's first fetch of a care-team patient's keys (that fetch is the
 *   first sync filling its key cache, not a person reading), patient-scoped chart pulls, and
 *   break-glass grants;
 * - source 'device': chart reads a workstation reported in its signed audit chain, stored with
 *   the time the server RECEIVED them (`at`) beside the entry's own time (`reported_at`), so a
 *   burst back-dated by the device still lands in the current hour.
 */
import type { WireAuditEntry } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export type ServerAccessKind = 'key-unwrap' | 'chart-pull' | 'break-glass';

export async function recordServerAccess(sql: Sql, e: { userId: string; patientId: string; deviceId: string; kind: ServerAccessKind }, now: Date): Promise<void> {
  await sql.query("INSERT INTO access_events (user_id, patient_id, device_id, source, kind, at) VALUES ($1, $2, $3, 'server', $4, $5)", [
    e.userId, e.patientId, e.deviceId, e.kind, now,
  ]);
}

/** The entries that count as a person reading a chart (search listings do not: one per result, per keystroke). */
export const isChartRead = (e: WireAuditEntry): boolean => e.type === 'read' && e.action === 'R' && e.outcome === 'success' && !!e.patientId && !!e.userId;

export async function recordDeviceReads(sql: Sql, deviceId: string, entries: readonly WireAuditEntry[], receivedAt: Date): Promise<void> {
  const reads = entries.filter(isChartRead);
  if (reads.length === 0) return;
  await sql.query(
    `INSERT INTO access_events (user_id, patient_id, device_id, source, kind, at, reported_at)
     SELECT u, p, $3, 'device', 'read', $4, r FROM unnest($1::text[], $2::text[], $5::timestamptz[]) AS t(u, p, r)`,
    [reads.map((e) => e.userId), reads.map((e) => e.patientId), deviceId, receivedAt, reads.map((e) => e.at)],
  );
}

/**
 * Does this unwrap count? Not when it is the device's first successful fetch of a care-team
 * patient's keys for this user (the first sync); every other unwrap is someone opening a chart:
 * a patient reached through a break-glass grant, or keys fetched again.
 */
export async function unwrapCountsAsAccess(sql: Sql, userId: string, deviceId: string, patientId: string): Promise<boolean> {
  return (await unwrapsCountingAsAccess(sql, userId, deviceId, [patientId])).has(patientId);
}

/** unwrapCountsAsAccess for many patients in one query (the batch unwrap of a first sync): the ones that count. */
export async function unwrapsCountingAsAccess(sql: Sql, userId: string, deviceId: string, patientIds: readonly string[]): Promise<Set<string>> {
  if (patientIds.length === 0) return new Set();
  const rows = await sql.query<{ patient_id: string }>(
    `SELECT p.id AS patient_id FROM unnest($3::text[]) AS p(id)
      WHERE NOT EXISTS (SELECT 1 FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = $1 AND ctp.patient_id = p.id)
         OR EXISTS (SELECT 1 FROM server_audit WHERE user_id = $1 AND device_id = $2 AND patient_id = p.id AND type = 'key-access' AND outcome = 'success')`,
    [userId, deviceId, [...patientIds]],
  );
  return new Set(rows.map((r) => r.patient_id));
}
