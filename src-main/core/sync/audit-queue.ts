/**
 * Pushing the device's audit chain to the server, in order.
 *
 * Entries are hash-chained when written (vault `audit`); each batch is sent oldest first and ends in
 * a checkpoint signed by the device key, and entries are marked pushed up to what the server acknowledged.
 * A refusal of the chain (the server found a gap, fork, edit, reorder or bad signature) is recorded
 * and shown in status for the user and the admin; the entries are never dropped, edited or
 * re-signed, and are offered again on the next cycle (an admin may repair the server side).
 *
 * One entry the server will not take must not hold back every entry behind it. An entry that
 * fails the wire schema here (e.g. a read written before reads were split, naming more than
 * LIMITS.auditRefsPerEntry records), or that the server refuses as INVALID on its own (found by
 * halving the batch), is QUARANTINED: recorded in kv (seq, reason, time), counted in status, and
 * sent as its placeholder — its link (seq, prevHash, real hash, signature) without content
 * (src-shared/audit/types.ts QuarantinedAuditLink). The chain stays gapless and verifiable on the
 * server, which stores the link and raises an 'audit-quarantined' alert; the full entry stays in
 * the vault, untouched, for review. docs/sync.md "Audit quarantine".
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { AuditChainLink, AuditEntry } from '../../../src-shared/audit';
import { AuditEntrySchema } from '../../../src-shared/sync/audit';
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
  /** Entries quarantined in this push (sent as placeholders). */
  quarantined: number;
}

/** An entry sent as its placeholder, and why ('schema' = failed the wire schema here, 'refused' = the server refused it alone). */
export interface AuditQuarantine {
  seq: number;
  reason: 'schema' | 'refused';
  at: string;
}

export function auditQuarantined(ctx: SyncContext): AuditQuarantine[] {
  return ctx.vault.kv.getJson<AuditQuarantine[]>(KV.auditQuarantined) ?? [];
}

function quarantine(ctx: SyncContext, list: AuditQuarantine[], seq: number, reason: AuditQuarantine['reason']): AuditQuarantine {
  const q: AuditQuarantine = { seq, reason, at: ctx.now().toISOString() };
  list.push(q);
  ctx.vault.kv.setJson(KV.auditQuarantined, list);
  return q;
}

/** What goes on the wire for an entry: itself, or (quarantined) its link only. */
function linkOf(e: AuditEntry, q: AuditQuarantine | undefined): AuditChainLink {
  if (!q) return e;
  return {
    deviceId: e.deviceId, seq: e.seq, prevHash: e.prevHash, hash: e.hash, ...(e.signature ? { signature: e.signature } : {}),
    at: q.at, quarantined: true, reason: q.reason,
  };
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
  let quarantinedNow = 0;
  const list = auditQuarantined(ctx);
  const bySeq = new Map(list.map((q) => [q.seq, q]));
  // Halved while the server refuses a batch as INVALID, until the one entry it refuses is found.
  let limit = ctx.auditBatch;
  for (;;) {
    if (ctx.signal?.aborted) break;
    // The batch ends in a signed checkpoint: the one signature the server verifies for all of it.
    const entries = vault.audit.nextPushBatch(limit);
    const last = entries.at(-1);
    if (!last) break;
    for (const e of entries) {
      if (bySeq.has(e.seq) || AuditEntrySchema.safeParse(e).success) continue;
      bySeq.set(e.seq, quarantine(ctx, list, e.seq, 'schema'));
      quarantinedNow++;
    }
    try {
      // Sent exactly as chained (the wire schema is the vault's AuditEntry): the server hashes the same bytes.
      const links = entries.map((e) => linkOf(e, bySeq.get(e.seq)));
      const res = await ctx.client.ingestAudit({ deviceId: ctx.deviceId, entries: links }, { signal: ctx.signal });
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
      if (e instanceof EhrError && e.code === ErrorCode.INVALID && e.detail?.reason !== 'CERT_PIN_MISMATCH') {
        // The server refused the batch's shape, not its chain: find the entry it refuses, quarantine it, go on.
        if (entries.length > 1) {
          limit = Math.ceil(entries.length / 2);
          continue;
        }
        const only = entries[0] as AuditEntry;
        if (!bySeq.has(only.seq)) {
          bySeq.set(only.seq, quarantine(ctx, list, only.seq, 'refused'));
          quarantinedNow++;
          limit = ctx.auditBatch;
          continue;
        }
        // Even its placeholder is refused: nothing more this side can do; recorded below, like a chain refusal.
      }
      if (e instanceof EhrError && (e.code === ErrorCode.INTEGRITY || e.code === ErrorCode.CONFLICT || e.code === ErrorCode.INVALID) && e.detail?.reason !== 'CERT_PIN_MISMATCH') {
        const rejection: AuditRejection = {
          reason: typeof e.detail?.problem === 'string' ? e.detail.problem : typeof e.detail?.reason === 'string' ? e.detail.reason : e.code,
          seq: typeof e.detail?.seq === 'number' ? e.detail.seq : null,
          at: ctx.now().toISOString(),
        };
        vault.kv.setJson(KV.auditRejected, rejection);
        return { pushed, rejected: rejection, quarantined: quarantinedNow };
      }
      throw e;
    }
  }
  return { pushed, rejected: null, quarantined: quarantinedNow };
}

/** A 'replay' refusal names the last seq the server holds; anything else is not a replay. */
function replayedUpTo(e: unknown): number | null {
  if (!(e instanceof EhrError) || e.code !== ErrorCode.INTEGRITY || e.detail?.problem !== 'replay') return null;
  const lastSeq = e.detail.lastSeq;
  return typeof lastSeq === 'number' && lastSeq >= 1 ? lastSeq : null;
}
