/**
 * The one entry point for every API call: `invoke(channel, input)` never throws; it answers
 * `{ ok: true, value }` or `{ ok: false, error }` with a typed, PHI-free error. It runs the guard
 * checks in the agreed order and records refusals in the audit log.
 */
import { randomUUID } from 'node:crypto';
import { channelSchemas, isChannel, jsonBytes, LOCKED_CHANNELS, type ApiResult, type Channel } from '../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { ApiContext } from './context';
import { forbiddenAction, fromZod, locked, noSession, toApiError } from './errors';
import { actorOf, ensurePatientAccess, knownPatientId, rawPatientId } from './guard';
import type { GuardedHandler, Handler, HandlerTable } from './handler';

/** Nothing the renderer legitimately sends comes near this; checked before parsing. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export interface Api {
  invoke(channel: string, input: unknown): Promise<ApiResult<unknown>>;
}

function sizeOf(raw: unknown): number {
  try {
    return jsonBytes(raw ?? {});
  } catch {
    // Cycles, BigInt: not JSON, so not a valid request.
    throw new EhrError(ErrorCode.INVALID, 'The request is not valid.');
  }
}

function parse<C extends Channel>(channel: C, raw: unknown) {
  if (sizeOf(raw) > MAX_INPUT_BYTES) throw new EhrError(ErrorCode.TOO_LARGE, 'The request is too large.', { limit: MAX_INPUT_BYTES });
  const res = channelSchemas[channel].safeParse(raw ?? {});
  if (!res.success) throw fromZod(res.error);
  return res.data;
}

export function createApi(ctx: ApiContext, handlers: HandlerTable): Api {
  async function run(channel: Channel, raw: unknown): Promise<unknown> {
    const handler = handlers[channel] as Handler<Channel>;
    const correlationId = randomUUID();
    if (handler.public) return handler.run(ctx, { input: parse(channel, raw), correlationId });

    const guarded = handler as GuardedHandler<Channel>;
    ctx.sessions.enforceDeadline();
    const session = ctx.sessions.front;
    if (!session) throw noSession();
    const actor = actorOf(session, correlationId);
    // An inactivity lock hides the chart but must not cut a running video visit: the few channels
    // that relay signalling or append sealed chunks (they return no PHI) still run while locked.
    if (session.state === 'locked' && !LOCKED_CHANNELS.has(channel)) {
      ctx.audit.record(actor, { type: 'access-denied', outcome: 'denied', reasonCode: ErrorCode.LOCKED });
      throw locked();
    }
    if (!guarded.allow(session.user.roles)) {
      ctx.audit.record(actor, { type: 'access-denied', outcome: 'denied', patientId: knownPatientId(ctx, rawPatientId(raw)), reasonCode: ErrorCode.FORBIDDEN });
      throw forbiddenAction(channel);
    }
    // The patient check comes before validation, so a caller cannot probe input rules on a patient it cannot see.
    const early = guarded.patient ? rawPatientId(raw) : null;
    let access = early ? ensurePatientAccess(ctx, session, actor, early) : null;
    const input = parse(channel, raw);
    const patientId = (input as { patientId?: string }).patientId;
    if (guarded.patient && patientId && access === null) access = ensurePatientAccess(ctx, session, actor, patientId);
    return guarded.run(ctx, { input, correlationId, session, actor, access });
  }

  return {
    async invoke(channel, input) {
      try {
        if (!isChannel(channel)) throw new EhrError(ErrorCode.INVALID, 'Unknown API channel.');
        return { ok: true, value: await run(channel, input) };
      } catch (e) {
        return { ok: false, error: toApiError(e) };
      }
    },
  };
}
