/**
 * access_events: one row per patient access the access-rate monitor counts, timed by the server
 * (what counts, and why, is services/access-events.ts').
 */
import type { Sql } from '../db/db';

export interface ServerAccess {
  userId: string;
  patientId: string;
  deviceId: string;
  kind: string;
}

/** An access this server served itself. */
export async function insertServerAccess(sql: Sql, e: ServerAccess, at: Date): Promise<void> {
  await sql.query("INSERT INTO access_events (user_id, patient_id, device_id, source, kind, at) VALUES ($1, $2, $3, 'server', $4, $5)", [
    e.userId, e.patientId, e.deviceId, e.kind, at,
  ]);
}

/** Chart reads a device reported: timed by when the server received them, the entry's own time kept beside. */
export async function insertDeviceReads(sql: Sql, deviceId: string, reads: readonly { userId: string; patientId: string; at: string }[], receivedAt: Date): Promise<void> {
  if (reads.length === 0) return;
  await sql.query(
    `INSERT INTO access_events (user_id, patient_id, device_id, source, kind, at, reported_at)
     SELECT u, p, $3, 'device', 'read', $4, r FROM unnest($1::text[], $2::text[], $5::timestamptz[]) AS t(u, p, r)`,
    [reads.map((e) => e.userId), reads.map((e) => e.patientId), deviceId, receivedAt, reads.map((e) => e.at)],
  );
}

/** The user's accesses after `recentSince`, and those in (`trailingSince`, `recentSince`]: one scan of the user's index. */
export async function countsSince(sql: Sql, userId: string, recentSince: Date, trailingSince: Date): Promise<{ recent: number; trailing: number }> {
  const [row] = await sql.query<{ recent: number; trailing: number }>(
    `SELECT count(*) FILTER (WHERE at > $2)::int AS recent, count(*) FILTER (WHERE at <= $2 AND at > $3)::int AS trailing
       FROM access_events WHERE user_id = $1 AND at > $3`,
    [userId, recentSince, trailingSince],
  );
  return { recent: row?.recent ?? 0, trailing: row?.trailing ?? 0 };
}

/**
 * Among these patients, the ones whose key unwrap by this user on this device counts as an access:
 * not on the user's care teams, or keys already fetched successfully from this device before (the
 * server_audit 'key-access' rows). One statement over care teams and the audit trail, so a batch
 * unwrap is judged in one query.
 */
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
