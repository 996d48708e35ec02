/**
 * The two signalling sockets of a visit (services/signalling.ts relays between them):
 * - GET /v1/visits/:visitId/signal — the host's workstation (main process, `ws`, pinned TLS) with
 *   its bearer token; only the visit's host, only while the visit is open.
 * - GET /visit/:token/signal — the patient page. A dead link (unknown, expired, used, revoked) is
 *   refused with 410 BEFORE the upgrade; the upgrade itself consumes the link (single use), so of
 *   two browsers racing with one link exactly one joins.
 * Every check runs in preValidation so a refusal is a plain HTTP answer with a PHI-free body.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { VISIT_LIMITS, VisitTokenSchema } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { authenticate } from '../services/tokens';
import { iceServersFor } from '../services/turn';
import { hostedVisit, linkTokenHash } from '../services/visits';
import * as visits from '../store/visits';

const gone = () => new EhrError(ErrorCode.NOT_FOUND, 'This visit link has expired or was already used. Ask the clinic for a new one.');

export function visitSignallingRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    await app.register(websocket, { options: { maxPayload: VISIT_LIMITS.signalBytes + 1024 } });
    const hosts = new WeakMap<FastifyRequest, { visitId: string; userId: string }>();

    app.get<{ Params: { visitId: string } }>(
      '/v1/visits/:visitId/signal',
      {
        websocket: true,
        preValidation: async (req) => {
          const principal = await authenticate(ctx, req.headers.authorization);
          const v = await hostedVisit(ctx, principal, String(req.params.visitId ?? ''), { open: true });
          hosts.set(req, { visitId: v.id, userId: principal.userId });
        },
      },
      (socket, req) => {
        const host = hosts.get(req);
        if (!host) return socket.close(1008, 'not authorised');
        ctx.signalling.attach(host.visitId, 'host', socket);
      },
    );

    const patients = new WeakMap<FastifyRequest, string>();
    app.get<{ Params: { token: string } }>(
      '/visit/:token/signal',
      {
        websocket: true,
        preValidation: async (req) => {
          const token = VisitTokenSchema.safeParse(req.params.token);
          if (!token.success) throw gone();
          const hash = linkTokenHash(token.data);
          if (!(await visits.visitOfLiveLink(ctx.db, hash, ctx.now()))) throw gone();
          patients.set(req, hash);
        },
      },
      async (socket, req) => {
        const hash = patients.get(req);
        const visitId = hash ? await visits.consumeLink(ctx.db, hash, ctx.now()) : null;
        if (!visitId) return socket.close(4410, 'link already used');
        ctx.signalling.attach(visitId, 'patient', socket, iceServersFor(ctx.config.turn, `patient-${visitId}`, ctx.now()));
      },
    );
  };
}
