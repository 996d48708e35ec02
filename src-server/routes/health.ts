/** Liveness: no auth, no data. */
import type { FastifyInstance } from 'fastify';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';

export function healthRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.health, async () => ({ ok: true as const, version: '1' }));
  };
}
