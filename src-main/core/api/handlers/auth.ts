/** auth.* and session.*: the public channels (they work with no session or a locked one). */
import type { BreakGlassGrant } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import { LoginRefused, type ServerTokens } from '../../auth';
import type { ApiContext } from '../context';
import { noSession } from '../errors';
import { actorOf } from '../guard';
import type { HandlerTable } from '../handler';

type AuthChannels = 'auth.login' | 'auth.unlock' | 'auth.logout' | 'auth.switchUser' | 'session.status' | 'session.heartbeat' | 'session.lock';

/** Grants the server still runs for this user come back into the session after a login. */
function restoreServerGrants(ctx: ApiContext, userId: string, grants: Array<{ id: string; patientId: string; reason: string; startsAt: string; expiresAt: string }>): void {
  const s = ctx.sessions.sessionOf(userId);
  if (!s) return;
  for (const g of grants) {
    const expiresAt = Date.parse(g.expiresAt);
    if (!(expiresAt > ctx.clock.now()) || s.breakGlass.has(g.patientId)) continue;
    const grant: BreakGlassGrant = { grantId: g.id, patientId: g.patientId, reason: g.reason as BreakGlassGrant['reason'], startedAt: Date.parse(g.startsAt), expiresAt };
    ctx.sessions.addBreakGlass(s, grant);
  }
}

/**
 * Re-reads /v1/me for the session in front and applies it: care team, restricted list, running
 * server grants, cached for offline use. Best effort (offline it changes nothing); called after a
 * sync so a care-team change on the server reaches the workstation without a new login.
 */
export async function refreshCareTeam(ctx: ApiContext): Promise<boolean> {
  const s = ctx.sessions.front;
  const tokens = s?.serverAuth as ServerTokens | null | undefined;
  if (!s || !tokens || !ctx.server) return false;
  try {
    const me = await ctx.server.me(tokens);
    s.careTeam = { careTeam: me.careTeamPatientIds, restricted: me.restrictedPatientIds, grants: [] };
    ctx.accounts.saveCareTeam(s.user.userId, s.careTeam);
    restoreServerGrants(ctx, s.user.userId, me.grants);
    return true;
  } catch {
    return false;
  }
}

export const authHandlers: Pick<HandlerTable, AuthChannels> = {
  'auth.login': {
    public: true,
    async run(ctx, { input, correlationId }) {
      try {
        const ok = await ctx.auth.login(input.username, input.password);
        const session = ctx.sessions.begin(ok.user, { offline: ok.offline, careTeam: ok.careTeam, serverAuth: ok.tokens });
        ctx.audit.record(actorOf(session, correlationId), { type: 'login', reasonCode: ok.offline ? 'offline' : 'online' });
        restoreServerGrants(ctx, ok.user.userId, ok.serverGrants);
        return ctx.sessions.status();
      } catch (e) {
        if (e instanceof LoginRefused) {
          ctx.audit.record({ userId: e.userId, role: null, correlationId }, { type: 'login-failed', outcome: 'failure', reasonCode: e.error.code });
          throw e.error;
        }
        throw e;
      }
    },
  },
  'auth.unlock': {
    public: true,
    async run(ctx, { input, correlationId }) {
      const s = ctx.sessions.front;
      if (!s) throw noSession();
      if (s.state !== 'locked') return ctx.sessions.status();
      const actor = actorOf(s, correlationId);
      try {
        await ctx.auth.verify(s.user.userId, input.password);
      } catch (e) {
        ctx.audit.record(actor, { type: 'login-failed', outcome: 'failure', reasonCode: e instanceof EhrError ? e.code : ErrorCode.INTERNAL });
        throw e;
      }
      ctx.sessions.unlockFront();
      ctx.audit.record(actor, { type: 'unlock' });
      return ctx.sessions.status();
    },
  },
  'auth.logout': {
    public: true,
    async run(ctx, { correlationId }) {
      const s = ctx.sessions.front;
      if (!s) throw noSession();
      const tokens = s.serverAuth as ServerTokens | null;
      // Video visits end with the session, while its tokens still let us tell the server (the
      // patient's page gets 'ended'); a failure there must not keep anyone signed in.
      await ctx.telemedicine?.visits.endSession(s, 'signed-out').catch(() => undefined);
      ctx.sessions.logout();
      ctx.audit.record(actorOf(s, correlationId), { type: 'logout' });
      // Revoke the server session too; offline, the refresh token simply expires.
      if (tokens && ctx.server) await ctx.server.logout(tokens).catch(() => undefined);
      return ctx.sessions.status();
    },
  },
  'auth.switchUser': {
    public: true,
    run(ctx) {
      ctx.sessions.switchUser();
      return ctx.sessions.status();
    },
  },
  'session.status': {
    public: true,
    run(ctx) {
      ctx.sessions.enforceDeadline();
      return ctx.sessions.status();
    },
  },
  'session.heartbeat': {
    public: true,
    run(ctx) {
      ctx.sessions.enforceDeadline();
      return { lockAt: ctx.sessions.heartbeat() };
    },
  },
  'session.lock': {
    public: true,
    run(ctx) {
      ctx.sessions.lock('user');
      return ctx.sessions.status();
    },
  },
};
