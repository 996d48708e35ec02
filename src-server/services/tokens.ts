/**
 * Access and refresh tokens.
 * - Access: JWT HS256 (pinned — alg "none" or any other alg is refused), ≤ 15 min, with jti, the
 *   device and the refresh family. The key is a server secret in the database wrapped by the KEK, so
 *   every instance verifies every other instance's tokens and no process holds a private random key.
 * - Refresh: 32 random bytes, stored only as a SHA-256 hash, single use. Each use rotates it within
 *   its family; presenting a used token again revokes the whole family (stolen-token detection).
 * Every authenticated request re-checks user status, device and family in the database, so logout,
 * device revoke and suspension take effect at once on every instance.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Sql } from '../db/db';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { Role, TokenResponse, User } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import * as sessions from '../store/sessions';
import type { UserRow } from '../store/users';

const ISSUER = 'clinic-ehr-sync';
const AUDIENCE = 'clinic-ehr-client';

export interface Principal {
  userId: string;
  username: string;
  roles: Role[];
  deviceId: string;
  familyId: string;
  jti: string;
}

/** The longest an access token may live (the configured lifetime, never above 15 minutes). */
export const accessLifetimeSeconds = (ctx: Pick<ServerContext, 'config'>): number => Math.min(ctx.config.accessTtlSeconds, 900);
/** Clock skew tolerated between instances for a token's issue time. */
const IAT_SKEW_SECONDS = 60;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export const toUser = (u: UserRow): User => ({ id: u.id, username: u.username, displayName: u.display_name, roles: u.roles });

export async function issueTokens(ctx: ServerContext, sql: Sql, user: UserRow, deviceId: string, familyId?: string): Promise<TokenResponse> {
  const now = ctx.now();
  const family = familyId ?? randomUUID();
  if (!familyId) await sessions.createFamily(sql, family, user.id, deviceId);
  const refreshToken = randomBytes(32).toString('base64url');
  const refreshExpires = new Date(now.getTime() + ctx.config.refreshTtlSeconds * 1000);
  await sessions.addRefreshToken(sql, sha256(refreshToken), family, refreshExpires);
  const ttl = accessLifetimeSeconds(ctx);
  const iat = Math.floor(now.getTime() / 1000);
  const accessToken = await new SignJWT({ dev: deviceId, fam: family })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setJti(randomUUID())
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(ctx.jwtKey);
  return {
    accessToken,
    accessExpiresAt: new Date((iat + ttl) * 1000).toISOString(),
    refreshToken,
    refreshExpiresAt: refreshExpires.toISOString(),
    user: toUser(user),
  };
}

export type RefreshOutcome = { ok: true; familyId: string; userId: string } | { ok: false; reason: 'unknown' | 'expired' | 'reused' | 'revoked' | 'device'; familyId?: string; userId?: string };

/** Consumes a refresh token. A second use of the same token revokes its family. */
export async function consumeRefresh(sql: Sql, token: string, deviceId: string, now: Date): Promise<RefreshOutcome> {
  const row = await sessions.refreshTokenForUpdate(sql, sha256(token));
  if (!row) return { ok: false, reason: 'unknown' };
  const ids = { familyId: row.family_id, userId: row.user_id };
  if (row.revoked_at) return { ok: false, reason: 'revoked', ...ids };
  if (row.used_at) {
    await sessions.revokeFamily(sql, row.family_id, 'refresh-reuse');
    return { ok: false, reason: 'reused', ...ids };
  }
  if (row.device_id !== deviceId) {
    await sessions.revokeFamily(sql, row.family_id, 'refresh-other-device');
    return { ok: false, reason: 'device', ...ids };
  }
  if (new Date(row.expires_at) <= now) return { ok: false, reason: 'expired', ...ids };
  await sessions.markRefreshUsed(sql, sha256(token), now);
  return { ok: true, ...ids };
}

export async function familyOfRefresh(sql: Sql, token: string): Promise<string | null> {
  return sessions.familyOfToken(sql, sha256(token));
}

const unauthenticated = (why: string): EhrError => new EhrError(ErrorCode.UNAUTHENTICATED, 'Sign in again: the access token is not valid.', { why });

/** Verifies a bearer token and its live state (user active, device enrolled, family not revoked). */
export async function authenticate(ctx: ServerContext, header: string | undefined): Promise<Principal> {
  const m = /^Bearer ([A-Za-z0-9_.-]{20,4096})$/.exec(header ?? '');
  if (!m?.[1]) throw unauthenticated('missing');
  let claims: { sub?: string; jti?: string; dev?: unknown; fam?: unknown; iat?: number; exp?: number };
  try {
    ({ payload: claims } = await jwtVerify(m[1], ctx.jwtKey, {
      algorithms: ['HS256'],
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: ctx.now(),
      requiredClaims: ['jti', 'exp', 'iat', 'sub'],
    }));
  } catch {
    throw unauthenticated('invalid');
  }
  const { sub, jti, dev, fam, iat, exp } = claims;
  // A correctly signed token still lives no longer than this server issues them: a lifetime
  // above the configured one (or an issue time in the future) is refused, whoever signed it.
  const nowSeconds = Math.floor(ctx.now().getTime() / 1000);
  if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > accessLifetimeSeconds(ctx) || iat > nowSeconds + IAT_SKEW_SECONDS) {
    throw unauthenticated('lifetime');
  }
  if (!sub || !jti || typeof dev !== 'string' || typeof fam !== 'string') throw unauthenticated('claims');
  const row = await sessions.liveState(ctx.db, sub, fam, dev);
  if (!row) throw unauthenticated('revoked');
  // Device first: revoking a device also revokes its token families, and the workstation must learn
  // that the device (not just the sign-in) is gone so it drops its cached patient keys at once.
  if (row.device_revoked) throw new EhrError(ErrorCode.UNAUTHENTICATED, 'This device has been revoked; contact IT.', { deviceId: dev });
  if (row.family_revoked) throw unauthenticated('revoked');
  if (row.status !== 'active') throw new EhrError(ErrorCode.ACCOUNT_LOCKED, 'This account is suspended or locked; contact the privacy officer or IT.', { userId: sub });
  return { userId: sub, username: row.username, roles: row.roles, deviceId: dev, familyId: fam, jti };
}
