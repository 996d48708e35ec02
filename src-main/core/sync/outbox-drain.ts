/**
 * Draining the outbox: push local changes in order, exactly once.
 *
 * - Order: rows go in outbox seq order; when a batch fails transiently the WHOLE queue waits (the
 *   head row's nextAttemptAt), so a later change never overtakes an earlier one.
 * - Exactly once: the mutation id is the row's, fixed when the change was written; the server
 *   answers a replay with `duplicate`. A crash between the server applying and us removing the row
 *   simply replays it.
 * - Sealing happens here, at drain time, with the patient's current data key.
 * - Backoff: exponential with full jitter, recorded on the rows, so it survives a restart.
 * - Several offline edits of one record were all written against the same base version; after the
 *   first is applied, later ones are rebased onto the version it produced (kv `sync.rebase.<id>`).
 * - Rows the server refuses (`rejected`, or no data key for the patient any more) are HELD: kept in
 *   the outbox with a far-future nextAttemptAt and a code, counted in status — never dropped.
 * - A conflict keeps both versions (ours in the resource row, theirs beside it) and removes the row:
 *   the clinician's resolution writes a new row.
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { Envelope } from '../../../src-shared/node/envelope';
import type { Mutation, MutationResult } from '../../../src-shared/sync/sync';
import type { OutboxRow } from '../vault';
import type { DataKey } from '../crypto/data-keys';
import { backoffDelayMs } from './backoff';
import { KV, type SyncContext } from './context';
import { isTransient } from './http-json';
import { isTombstone, openRecord, sealMutation, type ConflictTheirs } from './records';

export interface DrainReport {
  applied: number;
  duplicates: number;
  conflicts: number;
  held: number;
  /** Set when the queue is waiting for its backoff to pass (ms since epoch). */
  waitUntil: number | null;
}

interface RebaseEntry {
  base: number;
  version: number;
}

/**
 * The version the row's change really builds on: its own base, unless earlier rows of the record
 * (written offline against the same base) have since been applied and advanced it.
 */
function effectiveBase(ctx: SyncContext, row: OutboxRow): number {
  const r = ctx.vault.kv.getJson<RebaseEntry>(KV.rebase(row.recordId));
  // Every version in [base, version) was produced by this device's own earlier rows of the record
  // (another device's write in between would have been a conflict, not an apply).
  return r && row.baseVersion >= r.base && row.baseVersion < r.version ? r.version : row.baseVersion;
}

function hold(ctx: SyncContext, row: OutboxRow, code: string): void {
  ctx.vault.outbox.hold(row.seq, code);
}

/** Live (not held) rows, in push order. */
export function liveRows(ctx: SyncContext, limit: number): OutboxRow[] {
  return ctx.vault.outbox.live(limit);
}

export function heldCount(ctx: SyncContext): number {
  return ctx.vault.outbox.heldCount();
}

/** Seals a batch; rows that cannot be sealed for good (no key, no patient) are held, transient errors propagate. */
async function sealBatch(ctx: SyncContext, rows: OutboxRow[]): Promise<{ row: OutboxRow; mutation: Mutation }[]> {
  const patients = new Set(rows.map((r) => r.patientId).filter((p): p is string => !!p));
  await ctx.keys.wrapPending(patients);
  const sealed: { row: OutboxRow; mutation: Mutation }[] = [];
  // Two edits of one record in one batch: the second builds on the version the first will produce.
  const predicted = new Map<string, number>();
  // One key look-up per patient per batch (an import's batch is hundreds of one patient's records).
  const keys = new Map<string, DataKey>();
  for (const row of rows) {
    try {
      if (!row.patientId) throw new EhrError(ErrorCode.INVALID, 'no patient', { recordId: row.recordId });
      let key = keys.get(row.patientId);
      if (!key) {
        key = await ctx.keys.sealingKey(row.patientId);
        keys.set(row.patientId, key);
      }
      const base = predicted.get(row.recordId) ?? effectiveBase(ctx, row);
      predicted.set(row.recordId, base + 1);
      sealed.push({ row, mutation: sealMutation(row, base, key) });
    } catch (e) {
      if (isTransient(e) || !(e instanceof EhrError)) throw e;
      ctx.vault.transaction(() => hold(ctx, row, e.code));
    }
  }
  return sealed;
}

/** Opens the server side of every conflict before the vault transaction (key fetches are async). */
async function openConflicts(ctx: SyncContext, results: MutationResult[]): Promise<Map<string, ConflictTheirs | null>> {
  const opened = new Map<string, ConflictTheirs | null>();
  for (const r of results) {
    if (r.status !== 'conflict') continue;
    try {
      const env = r.serverEnvelope as Envelope;
      const key: DataKey = await ctx.keys.openingKey(env.patientId, env.keyId);
      const value = openRecord(env, key);
      opened.set(r.mutationId, isTombstone(value) ? null : { version: r.serverVersion, resource: value, meta: r.serverMeta });
    } catch (e) {
      if (isTransient(e)) throw e;
      opened.set(r.mutationId, null);
    }
  }
  return opened;
}

function applyResults(ctx: SyncContext, batch: { row: OutboxRow; mutation: Mutation }[], results: MutationResult[], theirs: Map<string, ConflictTheirs | null>, report: DrainReport): void {
  const byId = new Map(results.map((r) => [r.mutationId, r]));
  const { vault } = ctx;
  const userId = ctx.client.currentUser()?.id ?? null;
  vault.transaction(() => {
    // Version and status of the batch's records, read once and kept current below: the loop needs
    // no resource's JSON (a full get per answer was a tenth of an import's client time).
    const states = vault.resources.localStates(batch.map((b) => b.row.recordId));
    for (const { row, mutation } of batch) {
      const r = byId.get(row.mutationId);
      if (!r) continue; // not answered: stays queued, retried next pass
      if (r.status === 'applied' || r.status === 'duplicate') {
        if (r.status === 'applied') report.applied++;
        else report.duplicates++;
        vault.outbox.remove(row.mutationId);
        const prior = vault.kv.getJson<RebaseEntry>(KV.rebase(row.recordId));
        // Keyed by the ORIGINAL base the offline edits share, so every later one finds it.
        const base = prior && row.baseVersion >= prior.base && row.baseVersion <= prior.version ? prior.base : row.baseVersion;
        vault.kv.setJson(KV.rebase(row.recordId), { base, version: r.version } satisfies RebaseEntry);
        const local = states.get(row.recordId);
        if (local && local.version < r.version && local.status !== 'conflict') {
          const stillQueued = batch.some((b) => b.row.seq > row.seq && b.row.recordId === row.recordId && byId.get(b.row.mutationId)?.status !== 'applied');
          const status = row.op === 'delete' ? 'deleted' : stillQueued ? 'pending' : 'synced';
          vault.resources.setStatus(row.recordId, status, r.version);
          states.set(row.recordId, { version: r.version, status });
        }
      } else if (r.status === 'conflict') {
        report.conflicts++;
        const side = theirs.get(row.mutationId);
        const local = states.get(row.recordId);
        if (side && local) {
          vault.outbox.remove(row.mutationId);
          vault.resources.markConflict(row.recordId, {
            ...side,
            mine: { baseVersion: mutation.baseVersion, mutationId: row.mutationId, deviceId: ctx.deviceId, authorUserId: userId, at: row.createdAt },
          } as ConflictTheirs);
          states.set(row.recordId, { ...local, status: 'conflict' });
        } else {
          // Theirs is a deletion or could not be opened: ours stays in the outbox, held for review — never lost.
          hold(ctx, row, 'conflict-unreadable');
        }
      } else {
        report.held++;
        hold(ctx, row, `rejected:${r.code}`);
      }
    }
  });
}

/** Pushes one batch; on a request-level refusal of a multi-row batch, retries row by row to find the culprit. */
async function pushBatch(ctx: SyncContext, batch: { row: OutboxRow; mutation: Mutation }[], report: DrainReport): Promise<void> {
  let results: MutationResult[];
  try {
    results = (await ctx.client.push({ mutations: batch.map((b) => b.mutation) }, { signal: ctx.signal })).results;
  } catch (e) {
    if (e instanceof EhrError && (e.code === ErrorCode.INVALID || e.code === ErrorCode.TOO_LARGE)) {
      if (batch.length > 1) {
        for (const one of batch) await pushBatch(ctx, [one], report);
        return;
      }
      report.held++;
      ctx.vault.transaction(() => hold(ctx, batch[0]!.row, `rejected:${e.code}`));
      return;
    }
    throw e;
  }
  const theirs = await openConflicts(ctx, results);
  applyResults(ctx, batch, results, theirs, report);
}

/** Schedules the next attempt for the queue after a transient failure; returns when (ms). */
function backOff(ctx: SyncContext, rows: OutboxRow[], e: EhrError): number {
  const attempts = (rows[0]?.attempts ?? 0) + 1;
  const at = ctx.now().getTime() + backoffDelayMs(attempts, ctx.backoff);
  ctx.vault.transaction(() => {
    for (const r of rows) ctx.vault.outbox.recordAttempt(r.seq, new Date(at), e.code);
  });
  return at;
}

/**
 * Drains until the queue is empty, waiting for backoff, or a non-transient error (thrown: pin
 * mismatch, signed out, device revoked — the engine decides). Transient failures schedule a retry.
 */
export async function drainOutbox(ctx: SyncContext): Promise<DrainReport> {
  const report: DrainReport = { applied: 0, duplicates: 0, conflicts: 0, held: 0, waitUntil: null };
  for (;;) {
    if (ctx.signal?.aborted) return report;
    const rows = liveRows(ctx, ctx.pushBatch);
    const head = rows[0];
    if (!head) return report;
    const due = Date.parse(head.nextAttemptAt);
    if (due > ctx.now().getTime()) {
      report.waitUntil = due;
      return report;
    }
    try {
      const batch = await sealBatch(ctx, rows);
      if (batch.length > 0) await pushBatch(ctx, batch, report);
    } catch (e) {
      if (!isTransient(e)) throw e;
      report.waitUntil = backOff(ctx, rows, e as EhrError);
      throw e;
    }
  }
}
