/**
 * Pushing the device's audit chain to the server, in order.
 *
 * Entries are hash-chained when written (vault `audit`); each batch is sent oldest first and ends in
 * a checkpoint signed by the device key, and entries are marked pushed up to what the server acknowledged.
 * A refusal (the server found a gap, fork, edit, reorder or bad signature) is recorded and shown
 * in status for the user and the admin; the entries are never dropped, edited or re-signed, and
 * are offered again on the next cycle (an admin may repair the server side).
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { KV, type SyncContext } from './context';

export interface AuditRejection {
  /** The server's reason code: gap | fork | edit | reorder | signature | replay | device | ... */
  reason: string;
  /** The first refused sequence number (when the server said). */
  seq: number | null;
  at: string;
}

export interface AuditPushReport {
  pushed: number;
  rejected: AuditRejection | null;
}

export function auditRejection(ctx: SyncContext): AuditRejection | null {
  return ctx.vault.kv.getJson<AuditRejection>(KV.auditRejected);
}

export function unpushedAuditCount(ctx: SyncContext): number {
  return ctx.vault.audit.unpushedCount();
}

/** Pushes every unpushed entry in order. Transient errors propagate; a refusal is recorded and returned. */
export async function pushAudit(ctx: SyncContext): Promise<AuditPushReport> {
  const { vault } = ctx;
  let pushed = 0;
  for (;;) {
    if (ctx.signal?.aborted) break;
    // The batch ends in a signed checkpoint: the one signature the server verifies for all of it.
    const entries = vault.audit.nextPushBatch(ctx.auditBatch);
    const last = entries.at(-1);
    if (!last) break;
    try {
      // Sent exactly as chained (the wire schema is the vault's AuditEntry): the server hashes the same bytes.
      const res = await ctx.client.ingestAudit({ deviceId: ctx.deviceId, entries }, { signal: ctx.signal });
      // Only what the server says it holds is marked: never past the last entry we sent.
      const upto = Math.min(res.lastSeq, last.seq);
      vault.transaction(() => {
        vault.audit.markPushed(upto);
        vault.kv.delete(KV.auditRejected);
      });
      pushed += entries.filter((e) => e.seq <= upto).length;
      if (upto < last.seq) break;
    } catch (e) {
      const replayUpTo = replayedUpTo(e);
      if (replayUpTo !== null && replayUpTo >= (entries[0]?.seq ?? Infinity)) {
        // The server already holds these (our ack was lost, e.g. a crash after the push): acknowledge, then send the rest.
        vault.audit.markPushed(Math.min(replayUpTo, last.seq));
        continue;
      }
      if (e instanceof EhrError && (e.code === ErrorCode.INTEGRITY || e.code === ErrorCode.CONFLICT || e.code === ErrorCode.INVALID) && e.detail?.reason !== 'CERT_PIN_MISMATCH') {
        const rejection: AuditRejection = {
          reason: typeof e.detail?.problem === 'string' ? e.detail.problem : typeof e.detail?.reason === 'string' ? e.detail.reason : e.code,
          seq: typeof e.detail?.seq === 'number' ? e.detail.seq : null,
          at: ctx.now().toISOString(),
        };
        vault.kv.setJson(KV.auditRejected, rejection);
        return { pushed, rejected: rejection };
      }
      throw e;
    }
  }
  return { pushed, rejected: null };
}

/** A 'replay' refusal names the last seq the server holds; anything else is not a replay. */
function replayedUpTo(e: unknown): number | null {
  if (!(e instanceof EhrError) || e.code !== ErrorCode.INTEGRITY || e.detail?.problem !== 'replay') return null;
  const lastSeq = e.detail.lastSeq;
  return typeof lastSeq === 'number' && lastSeq >= 1 ? lastSeq : null;
}
