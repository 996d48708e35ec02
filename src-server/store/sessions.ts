/**
 * Sign-in sessions: refresh_families (one per sign-in of a user on a device) and refresh_tokens
 * (single use, stored only as a SHA-256 hash — the hashing is services/tokens.ts'). Revoking a
 * family ends the session everywhere at once: every request re-checks it (liveState).
 */
import type { Role } from '../../src-shared/sync';
import type { Sql } from '../db/db';

export async function createFamily(sql: Sql, id: string, userId: string, deviceId: string): Promise<void> {
  await sql.query('INSERT INTO refresh_families (id, user_id, device_id) VALUES ($1, $2, $3)', [id, userId, deviceId]);
}

export async function addRefreshToken(sql: Sql, tokenHash: string, familyId: string, expiresAt: Date): Promise<void> {
  await sql.query('INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, $3)', [tokenHash, familyId, expiresAt]);
}

export interface RefreshTokenRow {
  family_id: string;
  used_at: Date | null;
  expires_at: Date;
  revoked_at: Date | null;
  user_id: string;
  device_id: string;
}

/**
 * The token with its family, row-locked until the transaction ends: two refreshes presenting one
 * token serialise here, so the second sees it used.
 */
export async function refreshTokenForUpdate(sql: Sql, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  const [row] = await sql.query<RefreshTokenRow>(
    `SELECT t.family_id, t.used_at, t.expires_at, f.revoked_at, f.user_id, f.device_id
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
      WHERE t.token_hash = $1 FOR UPDATE OF t`,
    [tokenHash],
  );
  return row;
}

export async function markRefreshUsed(sql: Sql, tokenHash: string, at: Date): Promise<void> {
  await sql.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [tokenHash, at]);
}

export async function familyOfToken(sql: Sql, tokenHash: string): Promise<string | null> {
  const [row] = await sql.query<{ family_id: string }>('SELECT family_id FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
  return row?.family_id ?? null;
}

/** Revokes a family still alive (a revoked one keeps its first time and reason). */
export async function revokeFamily(sql: Sql, familyId: string, reason: string): Promise<void> {
  await sql.query('UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL', [familyId, reason]);
}

/** Every live family of the device, revoked as 'device-revoked'. */
export async function revokeDeviceFamilies(sql: Sql, deviceId: string): Promise<void> {
  await sql.query("UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'device-revoked' WHERE device_id = $1 AND revoked_at IS NULL", [deviceId]);
}

export interface LiveState {
  username: string;
  roles: Role[];
  status: string;
  family_revoked: boolean;
  device_revoked: boolean;
}

/**
 * What an access token's claims point at now: the user, and whether its family and device were
 * revoked. Undefined when the three do not belong together (family of another user or device).
 */
export async function liveState(sql: Sql, userId: string, familyId: string, deviceId: string): Promise<LiveState | undefined> {
  const [row] = await sql.query<LiveState>(
    `SELECT u.username, u.roles, u.status,
            (f.revoked_at IS NOT NULL) AS family_revoked, (d.revoked_at IS NOT NULL) AS device_revoked
       FROM users u
       JOIN refresh_families f ON f.id = $2 AND f.user_id = u.id AND f.device_id = $3
       JOIN devices d ON d.id = $3
      WHERE u.id = $1`,
    [userId, familyId, deviceId],
  );
  return row;
}

/**
 * Which of these users hold, or held after `since`, a session on this device: a family of (user,
 * device) still alive then — not revoked before it, and its newest refresh token not yet expired
 * (a family with no token yet counts from its creation).
 */
export async function usersWithSessionSince(sql: Sql, deviceId: string, userIds: readonly string[], since: Date): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await sql.query<{ user_id: string }>(
    `SELECT DISTINCT f.user_id FROM refresh_families f
      WHERE f.device_id = $1 AND f.user_id = ANY($2::text[])
        AND COALESCE(f.revoked_at, (SELECT max(t.expires_at) FROM refresh_tokens t WHERE t.family_id = f.id), f.created_at) > $3`,
    [deviceId, [...userIds], since],
  );
  return new Set(rows.map((r) => r.user_id));
}
