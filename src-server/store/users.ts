/**
 * users: accounts, their roles and status, and the sign-in failure counter. The counter is only
 * ever changed by single statements (UPDATE ... RETURNING): never read, verified and written back,
 * so parallel guesses each count. The rules that drive it are in services/password-check.ts.
 */
import type { Role } from '../../src-shared/sync';
import type { Sql } from '../db/db';

/** The account as tokens and /me carry it. */
export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  roles: Role[];
  status: string;
}

export interface LoginRow extends UserRow {
  password_hash: string;
}

/** The account as the admin lists show it (status with its reason, and the lock). */
export interface AdminUserRow {
  id: string;
  username: string;
  display_name: string;
  roles: Role[];
  status: string;
  status_reason: string | null;
  locked_until: Date | null;
}

const USER = 'id, username, display_name, roles, status';
const ADMIN_USER = `${USER}, status_reason, locked_until`;

export async function byUsernameForLogin(sql: Sql, username: string): Promise<LoginRow | undefined> {
  const [row] = await sql.query<LoginRow>(`SELECT ${USER}, password_hash FROM users WHERE username = $1`, [username]);
  return row;
}

export async function byId(sql: Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql.query<UserRow>(`SELECT ${USER} FROM users WHERE id = $1`, [id]);
  return row;
}

export async function passwordHashOf(sql: Sql, id: string): Promise<{ id: string; password_hash: string } | undefined> {
  const [row] = await sql.query<{ id: string; password_hash: string }>('SELECT id, password_hash FROM users WHERE id = $1', [id]);
  return row;
}

/**
 * The account when it may be given new tokens on this device: active, not locked at the
 * database's clock, and the device enrolled and not revoked.
 */
export async function activeOnDevice(sql: Sql, id: string, deviceId: string): Promise<UserRow | undefined> {
  const [row] = await sql.query<UserRow>(
    `SELECT u.id, u.username, u.display_name, u.roles, u.status FROM users u JOIN devices d ON d.id = $2 AND d.revoked_at IS NULL
      WHERE u.id = $1 AND u.status = 'active' AND (u.locked_until IS NULL OR u.locked_until <= now())`,
    [id, deviceId],
  );
  return row;
}

export async function adminById(sql: Sql, id: string): Promise<AdminUserRow | undefined> {
  const [row] = await sql.query<AdminUserRow>(`SELECT ${ADMIN_USER} FROM users WHERE id = $1`, [id]);
  return row;
}

export async function adminList(sql: Sql): Promise<AdminUserRow[]> {
  return sql.query<AdminUserRow>(`SELECT ${ADMIN_USER} FROM users ORDER BY username`);
}

/** The status of each of these users that exists. */
export async function statuses(sql: Sql, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql.query<{ id: string; status: string }>('SELECT id, status FROM users WHERE id = ANY($1::text[])', [[...ids]]);
  return new Map(rows.map((u) => [u.id, u.status]));
}

export interface NewUser {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  roles: readonly Role[];
  siteId?: string | null;
}

/** Creates the account; false when the username is taken (the unique index decides, no read first). */
export async function create(sql: Sql, u: NewUser): Promise<boolean> {
  const inserted = await sql.query(
    'INSERT INTO users (id, username, display_name, password_hash, roles, site_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING id',
    [u.id, u.username, u.displayName, u.passwordHash, [...u.roles], u.siteId ?? null],
  );
  return inserted.length > 0;
}

export async function setRoles(sql: Sql, id: string, roles: readonly Role[]): Promise<void> {
  await sql.query('UPDATE users SET roles = $2 WHERE id = $1', [id, [...roles]]);
}

/** Active again: the status reason, the failure counter and any lock cleared. */
export async function reinstate(sql: Sql, id: string): Promise<void> {
  await sql.query("UPDATE users SET status = 'active', status_reason = NULL, failed_logins = 0, locked_until = NULL WHERE id = $1", [id]);
}

/** A privacy officer's suspension: any account not disabled. False when there is no such account. */
export async function suspendPendingReview(sql: Sql, id: string, reason: string): Promise<boolean> {
  const updated = await sql.query("UPDATE users SET status = 'suspended', status_reason = $2 WHERE id = $1 AND status <> 'disabled' RETURNING id", [id, reason]);
  return updated.length > 0;
}

/** The access-rate monitor's suspension: only an active account, so it is raised (and alerted) once. */
export async function suspendIfActive(sql: Sql, id: string, reason: string): Promise<boolean> {
  const updated = await sql.query("UPDATE users SET status = 'suspended', status_reason = $2 WHERE id = $1 AND status = 'active' RETURNING id", [id, reason]);
  return updated.length > 0;
}

// --- The failure counter and lock (services/password-check.ts) ---

/** Is the account locked at `now`? False for an unknown id. */
export async function isLocked(sql: Sql, id: string, now: Date): Promise<boolean> {
  const [row] = await sql.query<{ locked: boolean }>('SELECT (locked_until IS NOT NULL AND locked_until > $2) AS locked FROM users WHERE id = $1', [id, now]);
  return row?.locked === true;
}

export interface FailureCount {
  failures: number;
  /** Locked after this statement (by this failure or an earlier one still running). */
  locked: boolean;
}

/**
 * One atomic step: +1 failure (restarting at 1 after a lapsed lock), and a lock until `lockUntil`
 * once the count reaches `maxFailures`. One UPDATE ... RETURNING, so parallel failures each count
 * and each sees its own count. Undefined for an unknown id.
 */
export async function countFailure(sql: Sql, id: string, now: Date, maxFailures: number, lockUntil: Date): Promise<FailureCount | undefined> {
  const fresh = 'CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END';
  const [row] = await sql.query<{ failed_logins: number; locked: boolean }>(
    `UPDATE users SET failed_logins = ${fresh},
       locked_until = CASE WHEN ${fresh} >= $3 THEN $4::timestamptz WHEN locked_until <= $2 THEN NULL ELSE locked_until END
     WHERE id = $1 RETURNING failed_logins, (locked_until IS NOT NULL AND locked_until > $2) AS locked`,
    [id, now, maxFailures, lockUntil],
  );
  return row ? { failures: row.failed_logins, locked: Boolean(row.locked) } : undefined;
}

/**
 * Clears the counter after a proved password — unless the account is locked at `now` (a parallel
 * guess may have locked it since the password was checked): false then, and nothing changes.
 */
export async function clearFailures(sql: Sql, id: string, now: Date): Promise<boolean> {
  const cleared = await sql.query(
    'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING id',
    [id, now],
  );
  return cleared.length > 0;
}
