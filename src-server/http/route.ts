/**
 * Registers one route from the protocol table (src-shared/sync/routes.ts): the table says whether
 * it needs a bearer token and the audit correlation header, and which zod schemas validate its
 * body and query. Handlers receive parsed, typed input — there is no hand-written validation.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { CORRELATION_HEADER, CorrelationIdSchema, IdSchema, type RouteDef } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { authenticate, type Principal } from '../services/tokens';
import { writeAudit } from '../services/server-audit';
import type { Role } from '../../src-shared/sync';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<D extends RouteDef> {
  body: Out<D['body']>;
  query: Out<D['query']>;
  params: Record<string, string>;
  principal: D['auth'] extends true ? Principal : undefined;
  /** Present (validated) on PHI routes. */
  correlationId: string;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteOptions {
  /** Only these roles may call the route (checked after authentication, refusal audited). */
  roles?: readonly Role[];
  /** Called with the raw body when it fails its schema, before the 400 goes out (e.g. to audit a plaintext attempt). */
  onInvalidBody?: (raw: unknown, principal: Principal | undefined, correlationId: string) => Promise<void>;
}

export function defineRoute<D extends RouteDef>(
  app: FastifyInstance,
  ctx: ServerContext,
  def: D,
  handler: (input: RouteInput<D>) => Promise<z.input<D['response']>>,
  options: RouteOptions = {},
): void {
  app.route({
    method: def.method,
    url: def.path,
    handler: async (req, reply) => {
      const principal = def.auth ? await authenticate(ctx, req.headers.authorization) : undefined;
      let correlationId = '';
      if (def.phi) {
        const header = req.headers[CORRELATION_HEADER];
        const parsed = CorrelationIdSchema.safeParse(header);
        if (!parsed.success) {
          await writeAudit(ctx.db, {
            type: 'missing-correlation-id', action: 'E', outcome: 'denied', severity: 'medium',
            userId: principal?.userId, deviceId: principal?.deviceId, detail: { route: def.path },
          });
          throw new EhrError(ErrorCode.FORBIDDEN, `The ${CORRELATION_HEADER} header is required on this route.`);
        }
        correlationId = parsed.data;
      }
      if (principal && options.roles && !principal.roles.some((r) => options.roles!.includes(r))) {
        await writeAudit(ctx.db, {
          type: 'role-denied', action: 'E', outcome: 'denied', severity: 'medium',
          userId: principal.userId, deviceId: principal.deviceId, correlationId: correlationId || null, detail: { route: def.path },
        });
        throw new EhrError(ErrorCode.FORBIDDEN, 'Your role does not allow this.', { route: def.path });
      }
      const params = z.record(z.string(), IdSchema).parse(req.params ?? {});
      let body: unknown;
      if (def.body) {
        const parsed = def.body.safeParse(req.body ?? {});
        if (!parsed.success) {
          await options.onInvalidBody?.(req.body, principal, correlationId);
          throw parsed.error;
        }
        body = parsed.data;
      }
      const query = def.query ? def.query.parse(req.query ?? {}) : undefined;
      const out = await handler({ body, query, params, principal, correlationId, req, reply } as RouteInput<D>);
      return out;
    },
  });
}
