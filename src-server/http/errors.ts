/**
 * One error handler for every route: EhrError -> its status and PHI-free JSON; schema failures ->
 * 400 with field paths only (never the offending values); anything else -> 500 with a fixed message.
 * No stack trace, no driver message, no echo of the request ever reaches the client or the log.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ZodError } from 'zod';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { ErrorBody } from '../../src-shared/sync';
import type { LogLine } from './log';

const STATUS: Record<ErrorCode, number> = {
  NO_SESSION: 401,
  UNAUTHENTICATED: 401,
  LOCKED: 423,
  ACCOUNT_LOCKED: 423,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID: 400,
  CONFLICT: 409,
  INTEGRITY: 409,
  OFFLINE: 503,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  KEYCHAIN_UNAVAILABLE: 500,
  VAULT_UNAVAILABLE: 500,
  INTERNAL: 500,
};

export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof EhrError) return { status: STATUS[err.code], body: err.toJSON() };
  if (err instanceof ZodError) {
    const paths = [...new Set(err.issues.map((i) => i.path.map(String).join('.') || '(root)'))].slice(0, 10);
    return {
      status: 400,
      body: { code: ErrorCode.INVALID, message: 'The request does not match the schema.', detail: { issues: err.issues.length, paths: paths.join(',') } },
    };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { code: ErrorCode.TOO_LARGE, message: 'The request body is too large.' } };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: { code: ErrorCode.INVALID, message: 'Only application/json bodies are accepted.' } };
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { code: ErrorCode.INVALID, message: 'The request is malformed.' } };
  }
  return { status: 500, body: { code: ErrorCode.INTERNAL, message: 'Internal server error.' } };
}

export function installErrorHandling(app: FastifyInstance, log: (l: LogLine) => void): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorBody(err);
    // A rate-limited caller is told when to come back (RFC 9110 §10.2.3).
    const retryAfter = err instanceof EhrError ? err.detail?.retryAfterSeconds : undefined;
    if (status === 429 && typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    const fe = err as Partial<FastifyError>;
    // Names and codes only: a driver's message may quote a value from the query.
    log({
      level: status >= 500 ? 'error' : 'warn',
      event: 'request-error',
      reqId: req.id,
      method: req.method,
      route: req.routeOptions.url ?? 'unknown',
      status,
      code: body.code,
      errorName: err instanceof EhrError ? body.code : (fe.code ?? (err instanceof Error ? err.constructor.name : 'unknown')),
    });
    void reply.status(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(404).send({ code: ErrorCode.NOT_FOUND, message: 'No such route.' } satisfies ErrorBody);
  });
}
