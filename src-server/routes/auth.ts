/** Login, refresh, logout, me. Lockout after repeated failures; the device must be enrolled. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type BreakGlassGrant } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { careTeamPatientIds } from '../services/access';
import { verifyPassword } from '../services/passwords';
import { writeAudit } from '../services/server-audit';
import { consumeRefresh, familyOfRefresh, issueTokens, revokeFamily, toUser, type UserRow } from '../services/tokens';

const WRONG_CREDENTIALS = 'Wrong username or password.';

interface LoginRow extends UserRow {
  password_hash: string;
  failed_logins: number;
  locked_until: Date | null;
}

export async function deviceIsActive(ctx: ServerContext, deviceId: string): Promise<boolean> {
  const rows = await ctx.db.query('SELECT 1 FROM devices WHERE id = $1 AND revoked_at IS NULL', [deviceId]);
  return rows.length > 0;
}

export function authRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.login, async ({ body }) => {
      const now = ctx.now();
      if (!(await deviceIsActive(ctx, body.deviceId))) {
        await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'denied', severity: 'medium', deviceId: body.deviceId, detail: { why: 'device' } });
        throw new EhrError(ErrorCode.FORBIDDEN, 'This workstation is not enrolled (or was revoked); ask IT to enroll it.', { deviceId: body.deviceId });
      }
      const users = await ctx.db.query<LoginRow>(
        'SELECT id, username, display_name, roles, status, password_hash, failed_logins, locked_until FROM users WHERE username = $1',
        [body.username],
      );
      const user = users[0];
      if (user && user.locked_until && new Date(user.locked_until) > now) {
        await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'denied', severity: 'medium', userId: user.id, deviceId: body.deviceId, detail: { why: 'locked' } });
        throw new EhrError(ErrorCode.ACCOUNT_LOCKED, 'Too many failed sign-ins: the account is locked for a while. Try later or contact IT.');
      }
      const ok = await verifyPassword(user?.password_hash, body.password);
      if (!user || !ok) {
        if (user) {
          const failed = user.failed_logins + 1;
          const lock = failed >= ctx.config.maxFailedLogins;
          await ctx.db.query('UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1', [
            user.id,
            lock ? 0 : failed,
            lock ? new Date(now.getTime() + ctx.config.lockoutMinutes * 60_000) : null,
          ]);
          await writeAudit(ctx.db, {
            type: lock ? 'account-locked' : 'login-failed', action: 'E', outcome: 'failure', severity: lock ? 'high' : 'medium',
            userId: user.id, deviceId: body.deviceId, detail: { failed },
          });
        } else {
          await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'failure', severity: 'medium', deviceId: body.deviceId, detail: { why: 'unknown-user' } });
        }
        throw new EhrError(ErrorCode.UNAUTHENTICATED, WRONG_CREDENTIALS);
      }
      if (user.status !== 'active') {
        await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'denied', severity: 'medium', userId: user.id, deviceId: body.deviceId, detail: { why: user.status } });
        throw new EhrError(ErrorCode.ACCOUNT_LOCKED, 'This account is suspended pending review; contact the privacy officer.');
      }
      return ctx.db.tx(async (sql) => {
        await sql.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [user.id]);
        await writeAudit(sql, { type: 'login', action: 'E', outcome: 'success', severity: 'info', userId: user.id, deviceId: body.deviceId });
        return issueTokens(ctx, sql, user, body.deviceId);
      });
    });

    defineRoute(app, ctx, ROUTES.refresh, async ({ body }) => {
      const result = await ctx.db.tx(async (sql) => {
        const outcome = await consumeRefresh(sql, body.refreshToken, body.deviceId, ctx.now());
        if (!outcome.ok) {
          await writeAudit(sql, {
            type: outcome.reason === 'reused' ? 'refresh-reuse' : 'refresh-failed', action: 'E', outcome: 'denied',
            severity: outcome.reason === 'reused' || outcome.reason === 'device' ? 'high' : 'medium',
            userId: outcome.userId, deviceId: body.deviceId, detail: { why: outcome.reason, familyId: outcome.familyId ?? null },
          });
          return { error: outcome.reason } as const;
        }
        const users = await sql.query<UserRow>(
          `SELECT u.id, u.username, u.display_name, u.roles, u.status FROM users u JOIN devices d ON d.id = $2 AND d.revoked_at IS NULL
            WHERE u.id = $1 AND u.status = 'active' AND (u.locked_until IS NULL OR u.locked_until <= now())`,
          [outcome.userId, body.deviceId],
        );
        if (!users[0]) return { error: 'inactive' } as const;
        await writeAudit(sql, { type: 'token-refresh', action: 'E', outcome: 'success', severity: 'info', userId: outcome.userId, deviceId: body.deviceId });
        return { tokens: await issueTokens(ctx, sql, users[0], body.deviceId, outcome.familyId) };
      });
      // Thrown after the transaction, so a family revoked for reuse stays revoked.
      if ('error' in result) {
        throw new EhrError(ErrorCode.UNAUTHENTICATED, 'Sign in again: the refresh token is not valid.', { why: result.error ?? 'unknown' });
      }
      return result.tokens;
    });

    defineRoute(app, ctx, ROUTES.logout, async ({ body, principal }) => {
      const family = await familyOfRefresh(ctx.db, body.refreshToken);
      await revokeFamily(ctx.db, principal.familyId, 'logout');
      if (family && family !== principal.familyId) await revokeFamily(ctx.db, family, 'logout');
      await writeAudit(ctx.db, { type: 'logout', action: 'E', outcome: 'success', severity: 'info', userId: principal.userId, deviceId: principal.deviceId });
      return { ok: true as const };
    });

    defineRoute(app, ctx, ROUTES.me, async ({ principal }) => {
      const now = ctx.now();
      const [userRow] = await ctx.db.query<UserRow>('SELECT id, username, display_name, roles, status FROM users WHERE id = $1', [principal.userId]);
      const grants = await ctx.db.query<{ id: string; patient_id: string; user_id: string; reason: string; starts_at: Date; expires_at: Date }>(
        'SELECT id, patient_id, user_id, reason, starts_at, expires_at FROM break_glass_grants WHERE user_id = $1 AND expires_at > $2 ORDER BY starts_at',
        [principal.userId, now],
      );
      const careTeam = await careTeamPatientIds(ctx.db, principal.userId);
      // Only the restricted patients this user may hold (care team or an active grant): the full list
      // would tell every user which records belong to VIPs and staff.
      const restricted = await ctx.db.query<{ id: string }>('SELECT id FROM patients WHERE restricted AND id = ANY($1::text[]) ORDER BY id', [
        [...new Set([...careTeam, ...grants.map((g) => g.patient_id)])],
      ]);
      return {
        user: toUser(userRow!),
        careTeamPatientIds: careTeam,
        restrictedPatientIds: restricted.map((r) => r.id),
        breakGlassGrants: grants.map(toGrant),
      };
    });
  };
}

export function toGrant(g: { id: string; patient_id: string; user_id: string; reason: string; starts_at: Date; expires_at: Date }): BreakGlassGrant {
  return { id: g.id, patientId: g.patient_id, userId: g.user_id, reason: g.reason, startsAt: new Date(g.starts_at).toISOString(), expiresAt: new Date(g.expires_at).toISOString() };
}
