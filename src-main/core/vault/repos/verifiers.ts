/**
 * Offline login verifiers: an Argon2id hash (computed by the auth area) per user who has logged in
 * online on this workstation, with roles, the time of the last online login, and failed attempts.
 */
import type { Db } from '../connection';

export interface VerifierInput {
  userId: string;
  username: string;
  displayName?: string | null;
  /** Argon2id PHC string. */
  hash: string;
  roles: string[];
  lastOnlineLoginAt: string;
}

export interface Verifier extends Required<VerifierInput> {
  failedCount: number;
  lockedUntil: string | null;
}

interface Row {
  user_id: string; username: string; display_name: string | null; hash: string; roles: string;
  last_online_login_at: string; failed_count: number; locked_until: string | null;
}

const toVerifier = (r: Row): Verifier => ({
  userId: r.user_id, username: r.username, displayName: r.display_name, hash: r.hash, roles: JSON.parse(r.roles) as string[],
  lastOnlineLoginAt: r.last_online_login_at, failedCount: r.failed_count, lockedUntil: r.locked_until,
});

export function createVerifierRepository(db: Db) {
  // A fresh online login resets the failure count and any lock.
  const upsert = db.prepare(`
    INSERT INTO verifiers (user_id, username, display_name, hash, roles, last_online_login_at, failed_count, locked_until)
    VALUES (?, ?, ?, ?, ?, ?, 0, NULL)
    ON CONFLICT(user_id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name, hash = excluded.hash,
      roles = excluded.roles, last_online_login_at = excluded.last_online_login_at, failed_count = 0, locked_until = NULL`);
  const byUsername = db.prepare<[string], Row>('SELECT * FROM verifiers WHERE username = ?');
  const byId = db.prepare<[string], Row>('SELECT * FROM verifiers WHERE user_id = ?');
  const fail = db.prepare('UPDATE verifiers SET failed_count = failed_count + 1, locked_until = coalesce(?, locked_until) WHERE user_id = ?');
  const reset = db.prepare('UPDATE verifiers SET failed_count = 0, locked_until = NULL WHERE user_id = ?');
  const del = db.prepare('DELETE FROM verifiers WHERE user_id = ?');

  return {
    upsert(v: VerifierInput): Verifier {
      upsert.run(v.userId, v.username, v.displayName ?? null, v.hash, JSON.stringify(v.roles), v.lastOnlineLoginAt);
      return toVerifier(byId.get(v.userId) as Row);
    },
    /** Case-insensitive. */
    getByUsername(username: string): Verifier | null {
      const row = byUsername.get(username);
      return row ? toVerifier(row) : null;
    },
    getById(userId: string): Verifier | null {
      const row = byId.get(userId);
      return row ? toVerifier(row) : null;
    },
    /** Counts a failed attempt; pass lockedUntil when the policy's limit is reached. Returns the new count. */
    recordFailure(userId: string, lockedUntil: string | null = null): number {
      fail.run(lockedUntil, userId);
      return byId.get(userId)?.failed_count ?? 0;
    },
    resetFailures(userId: string): void {
      reset.run(userId);
    },
    delete(userId: string): boolean {
      return del.run(userId).changes === 1;
    },
  };
}
