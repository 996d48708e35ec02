/**
 * Break-glass: password re-checked, a time-limited grant for one patient, audited high, alert raised.
 * Also the delivery of an OFFLINE grant's justification (services/offline-justification.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { raiseAlert } from '../services/alerts';
import { checkPassword } from '../services/password-check';
import { storeOfflineJustification } from '../services/offline-justification';
import { writeAudit } from '../services/server-audit';
import { recordServerAccess } from '../services/access-events';
import { checkAccessRate } from '../services/rate-monitor';
import { justificationAad } from '../services/note-aads';
import { sealText } from '../keys/sealed';
import * as grants from '../store/grants';
import * as patients from '../store/patients';
import * as users from '../store/users';
import { toGrant } from './auth';

export function breakGlassRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(
      app, ctx, ROUTES.breakGlass,
      async ({ body, principal, correlationId, req }) => {
        const user = await users.passwordHashOf(ctx.db, principal.userId);
        // The same counter, lockout and rate limits as sign-in: a held token buys no extra guesses.
        const verdict = await checkPassword(ctx, { user, username: principal.username, password: body.password, source: req.ip, deviceId: principal.deviceId, via: 'break-glass' });
        if (!verdict.ok) {
          await writeAudit(ctx.db, {
            type: 'break-glass-start', action: 'E', outcome: 'failure', severity: 'high', userId: principal.userId,
            deviceId: principal.deviceId, patientId: body.patientId, correlationId, detail: { why: 'password', failed: verdict.failures, locked: verdict.lockedNow },
          });
          throw new EhrError(ErrorCode.UNAUTHENTICATED, 'Password not confirmed; break-glass not granted.');
        }
        const now = ctx.now();
        const id = randomUUID();
        const minutes = Math.min(body.minutes ?? ctx.config.breakGlassMinutes, ctx.config.breakGlassMinutes);
        const expires = new Date(now.getTime() + minutes * 60_000);
        const grant = await ctx.db.tx(async (sql) => {
          const restricted = await patients.restrictedFlag(sql, body.patientId);
          if (restricted === null) return null;
          await grants.insert(sql, {
            id, userId: principal.userId, patientId: body.patientId, reason: body.reason,
            justificationSealed: sealText(ctx.notesKey, body.justification, justificationAad(id)), startsAt: now, expiresAt: expires,
          });
          const detail = { grantId: id, reason: body.reason, minutes, restricted };
          await writeAudit(sql, {
            type: 'break-glass-start', action: 'E', outcome: 'success', severity: 'high', userId: principal.userId,
            deviceId: principal.deviceId, patientId: body.patientId, correlationId, detail,
          });
          // source/deviceId/correlationId: the device's own break-glass-start entry (same correlation id) is matched to this alert at audit ingest.
          await raiseAlert(sql, {
            kind: 'break-glass', severity: restricted ? 'high' : 'medium', userId: principal.userId, patientId: body.patientId,
            detail: { ...detail, source: 'server', deviceId: principal.deviceId, correlationId },
          });
          await recordServerAccess(sql, { userId: principal.userId, patientId: body.patientId, deviceId: principal.deviceId, kind: 'break-glass' }, now);
          return { id, patient_id: body.patientId, user_id: principal.userId, reason: body.reason, starts_at: now, expires_at: expires };
        });
        if (!grant) throw new EhrError(ErrorCode.NOT_FOUND, 'No such patient.', { patientId: body.patientId });
        await checkAccessRate(ctx.db, principal.userId, now, ctx.config.rateMonitor);
        return { grant: toGrant(grant) };
      },
      { roles: ['nurse', 'physician'] },
    );

    // The justification of a grant the workstation made offline, once its audit entry is ingested.
    defineRoute(
      app, ctx, ROUTES.breakGlassJustification,
      ({ body, principal, correlationId }) => storeOfflineJustification(ctx, principal, body, correlationId),
      { roles: ['nurse', 'physician'] },
    );
  };
}
