/** Video visits: start, patient link, consent, end, ICE servers (HTTP only; rules in services/visits.ts). */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { iceServersFor } from '../services/turn';
import { createLink, endVisit, hostedVisit, recordConsent, revokeLinks, startVisit, toVisit } from '../services/visits';

export function visitRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.startVisit, async ({ body, principal, correlationId }) => startVisit(ctx, principal, body.patientId, correlationId));
    defineRoute(app, ctx, ROUTES.createVisitLink, async ({ body, params, principal, correlationId }) =>
      createLink(ctx, principal, params.visitId!, body.minutes, correlationId),
    );
    defineRoute(app, ctx, ROUTES.revokeVisitLink, async ({ params, principal, correlationId }) => {
      await revokeLinks(ctx, principal, params.visitId!, correlationId);
      return { ok: true as const };
    });
    defineRoute(app, ctx, ROUTES.visitConsent, async ({ body, params, principal, correlationId }) =>
      recordConsent(ctx, principal, params.visitId!, body.recording, body.method, correlationId),
    );
    defineRoute(app, ctx, ROUTES.endVisit, async ({ params, principal, correlationId }) => {
      const v = await hostedVisit(ctx, principal, params.visitId!, { open: false });
      const ended = await endVisit(ctx, v.id, 'ended', { userId: principal.userId, deviceId: principal.deviceId, correlationId });
      return toVisit(ended ?? v);
    });
    defineRoute(app, ctx, ROUTES.iceServers, async ({ principal }) => iceServersFor(ctx.config.turn, principal.userId, ctx.now()));
  };
}
