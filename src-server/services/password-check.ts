/**
 * Every password the server checks (sign-in, break-glass re-authentication) goes through here, so
 * every guess counts toward the same lockout and the same rate limits:
 * - per account: the users row's failure counter, raised by ONE atomic UPDATE ... RETURNING
 *   (store/users.ts countFailure; never read, verified, written back — 20 parallel guesses count
 *   20), locking for `lockoutMinutes` once it reaches `maxFailedLogins`; clearing it on success
 *   is atomic too, and refuses if a parallel guess locked the account meanwhile;
 * - per account name and per source address: failures in a window (table auth_throttle, one atomic
 *   upsert per failure); over the limit the caller gets 429 with Retry-After before any password is
 *   verified. The name is keyed by an HMAC, so unknown names (possibly a patient's name typed in
 *   the wrong box) are never stored;
 * - a locked account is not verified at all and is answered exactly like a wrong password (the
 *   caller has not proved the password, so it must not learn that the name exists or is locked).
 */
import { createHmac } from 'node:crypto';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import * as authThrottle from '../store/auth-throttle';
import * as users from '../store/users';
import { verifyPassword } from './passwords';
import { writeAudit } from './server-audit';

export interface PasswordAttempt {
  /** The account, when the name is known (undefined: an unknown name, verified against a decoy). */
  user: { id: string; password_hash: string } | undefined;
  /** The name typed (sign-in) or the principal's username (re-authentication). */
  username: string;
  password: string;
  /** The caller's network address (the socket's; the server trusts no forwarding header). */
  source: string;
  deviceId: string | null;
  /** What the password unlocks, for the audit trail. */
  via: 'login' | 'break-glass';
}

/** ok: proved. wrong: not proved (wrong password, unknown name, or a locked account — one answer). */
export type PasswordVerdict = { ok: true } | { ok: false; lockedNow: boolean; failures: number | null };

const throttleKeys = (ctx: ServerContext, a: PasswordAttempt): string[] => [
  `acct:${createHmac('sha256', ctx.jwtKey).update(a.username.normalize('NFC').toLowerCase()).digest('base64url')}`,
  `src:${a.source}`,
];

async function throttled(ctx: ServerContext, keys: string[], now: Date): Promise<number | null> {
  const t = ctx.config.authThrottle;
  const windowStart = new Date(now.getTime() - t.windowSeconds * 1000);
  const rows = await authThrottle.current(ctx.db, keys, windowStart);
  let retryAfter: number | null = null;
  for (const r of rows) {
    const limit = r.key.startsWith('acct:') ? t.perAccount : t.perSource;
    if (r.failures < limit) continue;
    const seconds = Math.max(1, Math.ceil((new Date(r.window_start).getTime() + t.windowSeconds * 1000 - now.getTime()) / 1000));
    retryAfter = Math.max(retryAfter ?? 0, seconds);
  }
  return retryAfter;
}

async function countThrottleFailure(sql: Sql, keys: string[], now: Date, windowSeconds: number): Promise<void> {
  await authThrottle.countFailure(sql, keys, now, new Date(now.getTime() - windowSeconds * 1000));
}

/** One atomic step: +1 failure (restarting after a lapsed lock), lock at the limit. */
async function countAccountFailure(ctx: ServerContext, userId: string, now: Date): Promise<{ failures: number; lockedNow: boolean }> {
  const row = await users.countFailure(ctx.db, userId, now, ctx.config.maxFailedLogins, new Date(now.getTime() + ctx.config.lockoutMinutes * 60_000));
  return { failures: row?.failures ?? 0, lockedNow: Boolean(row?.locked) && (row?.failures ?? 0) === ctx.config.maxFailedLogins };
}

/**
 * Checks one password. Throws RATE_LIMITED (429, Retry-After) when the name or the source is over
 * its limit; otherwise answers ok or not-ok, having counted a failure everywhere it counts.
 */
export async function checkPassword(ctx: ServerContext, a: PasswordAttempt): Promise<PasswordVerdict> {
  const now = ctx.now();
  const keys = throttleKeys(ctx, a);
  const retryAfter = await throttled(ctx, keys, now);
  if (retryAfter !== null) {
    await writeAudit(ctx.db, {
      type: 'password-throttled', action: 'E', outcome: 'denied', severity: 'medium', userId: a.user?.id, deviceId: a.deviceId, detail: { via: a.via },
    });
    throw new EhrError(ErrorCode.RATE_LIMITED, 'Too many attempts: wait before trying again.', { retryAfterSeconds: retryAfter });
  }
  const locked = a.user ? await users.isLocked(ctx.db, a.user.id, now) : false;
  // A locked account is verified against the decoy (same time as a real check) and never against its hash.
  const proved = (await verifyPassword(locked ? undefined : a.user?.password_hash, a.password)) && !locked;
  if (proved && a.user) {
    if (await users.clearFailures(ctx.db, a.user.id, now)) return { ok: true };
    // A parallel guess locked the account between the check and now: refused like any locked account.
    await countThrottleFailure(ctx.db, keys, now, ctx.config.authThrottle.windowSeconds);
    return { ok: false, lockedNow: false, failures: null };
  }
  await countThrottleFailure(ctx.db, keys, now, ctx.config.authThrottle.windowSeconds);
  if (!a.user) return { ok: false, lockedNow: false, failures: null };
  if (locked) return { ok: false, lockedNow: false, failures: null };
  const counted = await countAccountFailure(ctx, a.user.id, now);
  return { ok: false, lockedNow: counted.lockedNow, failures: counted.failures };
}
