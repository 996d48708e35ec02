/**
 * records.createBatch: several new records for one chart (a vitals form) as ONE write. Every record
 * is checked before anything is written (a refusal of one refuses them all), then one vault
 * transaction stores every resource, its outbox row and its audit entry, and the request's answer
 * under the caller's requestId. A failure anywhere (one invalid observation, the disk) rolls all
 * of it back; a retry with the same requestId finds the answer and writes nothing again.
 */
import { createHash } from 'node:crypto';
import { rolesMayEver } from '../../../../src-shared/access';
import type { BatchSaveResult, ChannelParsedInput, SaveResult } from '../../../../src-shared/api';
import { canonicalJson } from '../../../../src-shared/audit';
import { EhrError, ErrorCode, isEhrError } from '../../../../src-shared/errors';
import type { ApiRequestRecord } from '../../vault';
import type { HandlerTable } from '../handler';
import { ANY_TYPE, applyWrite, prepareWrite } from './record-write';

const CHANNEL = 'records.createBatch';
/** How long an answer is kept for a retry: far beyond a renderer's retry, bounded so the table stays small. */
const KEEP_ANSWERS_MS = 30 * 24 * 3600_000;

/** What a retry must repeat exactly: the chart and the records as sent (hashed; the row holds no PHI). */
function inputHash(input: ChannelParsedInput<'records.createBatch'>): string {
  return createHash('sha256').update(canonicalJson({ patientId: input.patientId, resources: input.resources })).digest('hex');
}

/**
 * Names which record of the batch failed (its position: an index, never content). Only plain
 * EhrErrors (a refusal, an invalid resource) get it; a named failure (a vault error class) passes
 * unchanged, so whoever tells those apart still can.
 */
function atIndex(e: unknown, index: number): unknown {
  return isEhrError(e) && e.constructor === EhrError ? new EhrError(e.code, e.message, { ...e.detail, index }) : e;
}

function withIndex<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw atIndex(e, index);
  }
}

/**
 * The answer to a retry. The same user, channel and input get the first answer back; anything else
 * under a used id is refused without saying what it was used for.
 */
function replay(earlier: ApiRequestRecord, userId: string, hash: string): BatchSaveResult {
  if (earlier.userId !== userId || earlier.channel !== CHANNEL || earlier.inputHash !== hash) {
    throw new EhrError(ErrorCode.CONFLICT, 'This request id was already used for a different save. Nothing was written; save again as a new request.');
  }
  return { ...(earlier.result as Omit<BatchSaveResult, 'replayed'>), replayed: true };
}

export const recordBatchHandlers: Pick<HandlerTable, 'records.createBatch'> = {
  'records.createBatch': {
    allow: (roles) => rolesMayEver(roles, 'c', ANY_TYPE),
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const userId = session.user.userId;
      const writes = input.resources.map((resource, i) => withIndex(i, () => prepareWrite(ctx, session, actor, input.patientId, { resource }, CHANNEL)));
      const hash = inputHash(input);
      const now = ctx.clock.now();
      const answer = ctx.vault.transaction((): BatchSaveResult => {
        const earlier = ctx.vault.requests.get(input.requestId);
        if (earlier) return replay(earlier, userId, hash);
        const results: SaveResult[] = writes.map((w, i) => withIndex(i, () => applyWrite(ctx, actor, w)));
        ctx.vault.requests.pruneBefore(new Date(now - KEEP_ANSWERS_MS).toISOString());
        ctx.vault.requests.insert({ requestId: input.requestId, userId, channel: CHANNEL, inputHash: hash, result: { requestId: input.requestId, results }, createdAt: new Date(now).toISOString() });
        return { requestId: input.requestId, results, replayed: false };
      });
      if (!answer.replayed) ctx.sync?.notifyLocalChange?.();
      return answer;
    },
  },
};
