/**
 * visits and visit_links: a video visit and its one-time patient links (docs/telemedicine.md).
 * A link's token is stored as its SHA-256 only; consuming it is one UPDATE so two patients racing
 * with the same link cannot both join.
 */
import type { Sql } from '../db/db';

export interface VisitRow {
  id: string;
  patient_id: string;
  host_user_id: string;
  host_device_id: string;
  status: 'open' | 'ended';
  recording_consent: boolean | null;
  created_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
}

export async function insert(sql: Sql, v: { id: string; patientId: string; hostUserId: string; hostDeviceId: string; at: Date }): Promise<VisitRow> {
  const [row] = await sql.query<VisitRow>(
    "INSERT INTO visits (id, patient_id, host_user_id, host_device_id, status, created_at) VALUES ($1, $2, $3, $4, 'open', $5) RETURNING *",
    [v.id, v.patientId, v.hostUserId, v.hostDeviceId, v.at],
  );
  return row!;
}

export async function byId(sql: Sql, id: string): Promise<VisitRow | null> {
  const [row] = await sql.query<VisitRow>('SELECT * FROM visits WHERE id = $1', [id]);
  return row ?? null;
}

export async function setConsent(sql: Sql, id: string, recording: boolean): Promise<VisitRow | null> {
  const [row] = await sql.query<VisitRow>("UPDATE visits SET recording_consent = $2 WHERE id = $1 AND status = 'open' RETURNING *", [id, recording]);
  return row ?? null;
}

/** Ends an open visit (null when it was already ended) and revokes its unused links, in one transaction by the caller. */
export async function end(sql: Sql, id: string, reason: string, at: Date): Promise<VisitRow | null> {
  const [row] = await sql.query<VisitRow>(
    "UPDATE visits SET status = 'ended', ended_at = $2, end_reason = $3 WHERE id = $1 AND status = 'open' RETURNING *",
    [id, at, reason],
  );
  if (row) await revokeLinks(sql, id, at);
  return row ?? null;
}

/** Open visits hosted by a user (optionally only from one device): what a sign-out or a device revocation ends. */
export async function openHostedBy(sql: Sql, userId: string | null, deviceId: string | null): Promise<VisitRow[]> {
  return sql.query<VisitRow>(
    "SELECT * FROM visits WHERE status = 'open' AND ($1::text IS NULL OR host_user_id = $1) AND ($2::text IS NULL OR host_device_id = $2)",
    [userId, deviceId],
  );
}

export async function insertLink(sql: Sql, l: { tokenHash: string; visitId: string; at: Date; expiresAt: Date }): Promise<void> {
  // One live link per visit: a new one revokes the earlier unused ones.
  await revokeLinks(sql, l.visitId, l.at);
  await sql.query('INSERT INTO visit_links (token_hash, visit_id, expires_at, created_at) VALUES ($1, $2, $3, $4)', [l.tokenHash, l.visitId, l.expiresAt, l.at]);
}

export async function revokeLinks(sql: Sql, visitId: string, at: Date): Promise<number> {
  const rows = await sql.query('UPDATE visit_links SET revoked_at = $2 WHERE visit_id = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING token_hash', [visitId, at]);
  return rows.length;
}

/** The visit a live (unexpired, unused, unrevoked) link opens, without consuming it (the page view). */
export async function visitOfLiveLink(sql: Sql, tokenHash: string, now: Date): Promise<string | null> {
  const [row] = await sql.query<{ visit_id: string }>(
    `SELECT l.visit_id FROM visit_links l JOIN visits v ON v.id = l.visit_id
      WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > $2 AND v.status = 'open'`,
    [tokenHash, now],
  );
  return row?.visit_id ?? null;
}

/** Consumes a live link: exactly one caller gets the visit id, every later one null. */
export async function consumeLink(sql: Sql, tokenHash: string, now: Date): Promise<string | null> {
  const [row] = await sql.query<{ visit_id: string }>(
    `UPDATE visit_links l SET used_at = $2 FROM visits v
      WHERE l.token_hash = $1 AND v.id = l.visit_id AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > $2 AND v.status = 'open'
      RETURNING l.visit_id`,
    [tokenHash, now],
  );
  return row?.visit_id ?? null;
}
