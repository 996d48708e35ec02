/** Login, refresh, logout, me. Lockout after repeated failures; the device must be enrolled. */
import { endVisitsOf } from '../services/visits';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type BreakGlassGrant } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { checkPassword } from '../services/password-check';
import { writeAudit } from '../services/server-audit';
import { consumeRefresh, familyOfRefresh, issueTokens, toUser } from '../services/tokens';
import * as careTeams from '../store/care-teams';
import * as devices from '../store/devices';
import type { GrantRow } from '../store/grants';
import * as grants from '../store/grants';
import * as patients from '../store/patients';
import { revokeFamily } from '../store/sessions';
import * as users from '../store/users';

/** Also the answer to a locked account until the caller proves the password (no oracle for names or locks). */
const WRONG_CREDENTIALS = 'Wrong username or password, or too many attempts: try again later.';

export function authRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.login, async ({ body, req }) => {
      if (!(await devices.isActive(ctx.db, body.deviceId))) {
        await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'denied', severity: 'medium', deviceId: body.deviceId, detail: { why: 'device' } });
        throw new EhrError(ErrorCode.FORBIDDEN, 'This workstation is not enrolled (or was revoked); ask IT to enroll it.', { deviceId: body.deviceId });
      }
      const user = await users.byUsernameForLogin(ctx.db, body.username);
      // Locked, unknown and wrong are one answer until the password is proved (services/password-check.ts).
      const verdict = await checkPassword(ctx, { user, username: body.username, password: body.password, source: req.ip, deviceId: body.deviceId, via: 'login' });
      if (!verdict.ok || !user) {
        await writeAudit(ctx.db, {
          type: verdict.ok === false && verdict.lockedNow ? 'account-locked' : 'login-failed', action: 'E', outcome: 'failure',
          severity: verdict.ok === false && verdict.lockedNow ? 'high' : 'medium', userId: user?.id, deviceId: body.deviceId,
          detail: user ? { failed: verdict.ok === false ? verdict.failures : null } : { why: 'unknown-user' },
        });
        throw new EhrError(ErrorCode.UNAUTHENTICATED, WRONG_CREDENTIALS);
      }
      if (user.status !== 'active') {
        await writeAudit(ctx.db, { type: 'login-failed', action: 'E', outcome: 'denied', severity: 'medium', userId: user.id, deviceId: body.deviceId, detail: { why: user.status } });
        throw new EhrError(ErrorCode.ACCOUNT_LOCKED, 'This account is suspended pending review; contact the privacy officer.');
      }
      return ctx.db.tx(async (sql) => {
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
        const user = await users.activeOnDevice(sql, outcome.userId, body.deviceId);
        if (!user) return { error: 'inactive' } as const;
        await writeAudit(sql, { type: 'token-refresh', action: 'E', outcome: 'success', severity: 'info', userId: outcome.userId, deviceId: body.deviceId });
        return { tokens: await issueTokens(ctx, sql, user, body.deviceId, outcome.familyId) };
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
      // A signed-out physician's video visits from this workstation end on both sides.
      await endVisitsOf(ctx, { userId: principal.userId, deviceId: principal.deviceId }, 'signed-out');
      return { ok: true as const };
    });

    defineRoute(app, ctx, ROUTES.me, async ({ principal }) => {
      const now = ctx.now();
      const userRow = await users.byId(ctx.db, principal.userId);
      const held = await grants.unexpiredOf(ctx.db, principal.userId, now);
      const careTeam = await careTeams.patientIdsOf(ctx.db, principal.userId);
      // Only the restricted patients this user may hold (care team or an active grant): the full list
      // would tell every user which records belong to VIPs and staff.
      const restricted = await patients.restrictedAmong(ctx.db, [...new Set([...careTeam, ...held.map((g) => g.patient_id)])]);
      return {
        user: toUser(userRow!),
        careTeamPatientIds: careTeam,
        restrictedPatientIds: restricted,
        breakGlassGrants: held.map(toGrant),
      };
    });
  };
}

export function toGrant(g: Pick<GrantRow, 'id' | 'patient_id' | 'user_id' | 'reason' | 'starts_at' | 'expires_at'>): BreakGlassGrant {
  return { id: g.id, patientId: g.patient_id, userId: g.user_id, reason: g.reason, startsAt: new Date(g.starts_at).toISOString(), expiresAt: new Date(g.expires_at).toISOString() };
}
