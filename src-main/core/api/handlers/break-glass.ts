/**
 * breakGlass.*: emergency access to one patient outside the care team, for a limited time.
 * Asked with a coded reason (from the policy's list), a justification of the policy's minimum
 * length and the password again. Online, the server grants it (and raises its alert); offline, the
 * workstation grants it for the policy's minutes and queues the alert. Start and end are audited
 * with high severity; expiry removes access at once (see SessionManager.activeBreakGlass).
 */
import { randomUUID } from 'node:crypto';
import { hasCapability } from '../../../../src-shared/access';
import type { BreakGlassGrant } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import { createBreakGlassAlertQueue } from '../../access';
import type { ServerTokens } from '../../auth';
import type { HandlerTable } from '../handler';
import { invalid, notFound } from '../errors';

export const breakGlassHandlers: Pick<HandlerTable, 'breakGlass.request' | 'breakGlass.end' | 'breakGlass.active'> = {
  'breakGlass.request': {
    allow: (roles) => hasCapability(roles, 'break-glass:request'),
    // The patient is, by definition, not accessible yet: no patient gate here.
    patient: false,
    async run(ctx, { input, session, actor, correlationId }) {
      const { policy } = ctx;
      if (!policy.breakGlassReasons.includes(input.reason)) throw invalid('This reason is not allowed for emergency access here.', { field: 'reason' });
      if (input.justification.trim().length < policy.breakGlassMinJustificationChars) {
        throw invalid(`The justification must be at least ${policy.breakGlassMinJustificationChars} characters.`, { field: 'justification' });
      }
      // A patient outside the care team is usually not on this workstation yet: online, the server
      // decides whether the id exists (and sync then brings the chart); offline, only a patient this
      // vault holds can be opened, so only such an id is accepted (and recorded).
      const local = ctx.vault.patients.getById(input.patientId);
      const tokens = session.serverAuth as ServerTokens | null;
      const online = ctx.server !== null && tokens !== null;
      if (!local && !online) throw notFound('patient');
      const patient = { id: input.patientId };
      const restricted = (local?.restricted ?? false) || session.careTeam.restricted.includes(patient.id);
      try {
        await ctx.auth.verify(session.user.userId, input.password);
      } catch (e) {
        ctx.audit.record(actor, {
          type: 'break-glass-start',
          outcome: 'failure',
          patientId: patient.id,
          reasonCode: e instanceof EhrError ? e.code : ErrorCode.INTERNAL,
        });
        throw e;
      }

      const now = ctx.clock.now();
      let grant: BreakGlassGrant | null = null;
      let origin: 'server' | 'offline' = 'offline';
      if (ctx.server && tokens) {
        try {
          const g = await ctx.server.breakGlass(
            tokens,
            { patientId: patient.id, reason: input.reason, justification: input.justification, password: input.password, minutes: policy.breakGlassMinutes },
            correlationId,
          );
          // The server's duration on the local clock (immune to clock skew), never longer than the local policy.
          const serverMs = Date.parse(g.expiresAt) - Date.parse(g.startsAt);
          const policyMs = policy.breakGlassMinutes * 60_000;
          const expiresAt = now + (Number.isFinite(serverMs) && serverMs > 0 ? Math.min(serverMs, policyMs) : policyMs);
          grant = { grantId: g.id, patientId: patient.id, reason: input.reason, startedAt: now, expiresAt };
          origin = 'server';
        } catch (e) {
          if (!(e instanceof EhrError) || e.code !== ErrorCode.OFFLINE) throw e;
          if (!local) throw notFound('patient');
        }
      }
      grant ??= { grantId: randomUUID(), patientId: patient.id, reason: input.reason, startedAt: now, expiresAt: now + policy.breakGlassMinutes * 60_000 };

      createBreakGlassAlertQueue(ctx.vault).enqueue({
        grantId: grant.grantId,
        patientId: patient.id,
        userId: session.user.userId,
        reason: input.reason,
        justification: input.justification,
        restricted,
        startedAt: grant.startedAt,
        expiresAt: grant.expiresAt,
        origin,
        delivered: origin === 'server',
      });
      ctx.audit.record(actor, { type: 'break-glass-start', patientId: patient.id, resourceRefs: [`Patient/${patient.id}`], reasonCode: input.reason });
      ctx.sessions.addBreakGlass(session, grant);
      // Bring the whole chart (and its key) to this workstation now rather than at the next cycle.
      if (origin === 'server') ctx.sync?.notifyAccessGranted?.(patient.id);
      return grant;
    },
  },
  'breakGlass.end': {
    allow: () => true,
    patient: false,
    run(ctx, { input, session }) {
      return { ended: ctx.sessions.endBreakGlass(session, input.patientId, 'ended') };
    },
  },
  'breakGlass.active': {
    allow: () => true,
    patient: false,
    run(ctx, { session }) {
      return [...session.breakGlass.keys()].map((pid) => ctx.sessions.activeBreakGlass(session, pid)).filter((g): g is BreakGlassGrant => g !== null);
    },
  },
};
