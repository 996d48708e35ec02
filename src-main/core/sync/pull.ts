/**
 * Pulling what colleagues wrote: cursor-based, resumable after a kill, one vault transaction per page.
 *
 * Each page is opened first (data keys may need a network fetch), then stored together with the
 * next cursor in ONE transaction: a kill mid-page leaves the old cursor and none of the page, so
 * the restart pulls that page again. Records that cannot be opened (integrity) or fail FHIR
 * validation are skipped by id and counted in status, never half-stored.
 */
import type { Envelope } from '../../../src-shared/node/envelope';
import type { DataKey } from '../crypto/data-keys';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { PulledRecord, PullResponse } from '../../../src-shared/sync/sync';
import { KV, type SyncContext } from './context';
import { isTransient } from './http-json';
import { applyServerPage, openRecordText, type OpenedRecord } from './records';
import { performance } from 'node:perf_hooks';

export interface PullProgress {
  done: number;
  total: number;
}

export interface PullReport {
  received: number;
  stored: number;
  skipped: number;
  pages: number;
  /** Patients whose cached chart changed (ids only): an open chart of theirs is re-read, no other. */
  changedPatients: Set<string>;
  /** Where the time went (ms): waiting for pages, opening envelopes, storing in the vault. */
  timings: { fetchMs: number; openMs: number; storeMs: number };
}

/** Skipped records are kept by id (and reason code) for the admin, capped so the list cannot grow without bound. */
function noteSkippedMany(ctx: SyncContext, skipped: readonly { recordId: string; code: string }[]): void {
  const list = ctx.vault.kv.getJson<{ recordId: string; code: string }[]>(KV.skipped) ?? [];
  const known = new Set(list.map((s) => s.recordId));
  for (const s of skipped) {
    if (known.has(s.recordId)) continue;
    known.add(s.recordId);
    list.push({ recordId: s.recordId, code: s.code });
  }
  ctx.vault.kv.setJson(KV.skipped, list.slice(-1000));
}

/** Keys looked up once per pull, not once per record (a page has many records of few patients). */
type KeyMemo = Map<string, DataKey>;
const memoKeyOf = (env: { patientId: string; keyId: string }): string => `${env.patientId}\u0000${env.keyId}`;

/** Key fetches in flight at once when a page brings patients whose keys are not cached yet. */
const KEY_FETCH_CONCURRENCY = 4;

/**
 * The keys a page needs, fetched before opening it: cached ones at once, missing ones from the key
 * service a few at a time (an initial sync meets every patient of the care team in its first pages;
 * one round trip after another would leave both cores idle). A refusal is kept per key for this
 * page; a transient failure propagates (the cursor stays).
 */
async function keysForPage(ctx: SyncContext, records: PulledRecord[], memo: KeyMemo): Promise<Map<string, EhrError | Error>> {
  const refused = new Map<string, EhrError | Error>();
  const missing = new Map<string, { patientId: string; keyId: string }>();
  for (const { envelope: env } of records) {
    const memoKey = memoKeyOf(env);
    if (memo.has(memoKey) || missing.has(memoKey)) continue;
    const cached = ctx.keys.cachedKey(env.patientId, env.keyId);
    if (cached) memo.set(memoKey, cached);
    else missing.set(memoKey, { patientId: env.patientId, keyId: env.keyId });
  }
  if (ctx.keys.openingKeys && missing.size) {
    // One batched unwrap for the page's unknown keys, not one round trip per patient.
    const got = await ctx.keys.openingKeys([...missing.values()]);
    for (const [memoKey, w] of missing) {
      const k = got.get(memoKeyOf(w));
      if (k && !(k instanceof Error)) memo.set(memoKey, k);
      else refused.set(memoKey, k ?? new EhrError(ErrorCode.INTERNAL, 'No data key was obtained for a pulled record.', { patientId: w.patientId }));
    }
    return refused;
  }
  const queue = [...missing.entries()];
  let transient: unknown = null;
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next && transient === null; next = queue.shift()) {
      const [memoKey, { patientId, keyId }] = next;
      try {
        memo.set(memoKey, await ctx.keys.openingKey(patientId, keyId));
      } catch (e) {
        if (isTransient(e)) transient = e;
        else refused.set(memoKey, e as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(KEY_FETCH_CONCURRENCY, queue.length) }, worker));
  if (transient !== null) throw transient;
  return refused;
}

async function openPage(ctx: SyncContext, records: PulledRecord[], memo: KeyMemo): Promise<{ opened: OpenedRecord[]; failed: { recordId: string; code: string }[] }> {
  const refused = await keysForPage(ctx, records, memo);
  const opened: OpenedRecord[] = [];
  const failed: { recordId: string; code: string }[] = [];
  for (const record of records) {
    const env = record.envelope as Envelope;
    try {
      const memoKey = memoKeyOf(env);
      const key = memo.get(memoKey);
      if (!key) throw refused.get(memoKey) ?? new EhrError(ErrorCode.INTERNAL, 'No data key was obtained for a pulled record.', { recordId: env.recordId });
      const { value, json } = openRecordText(env, key);
      opened.push({ envelope: env, meta: record.meta, value, json });
    } catch (e) {
      if (isTransient(e)) throw e;
      failed.push({ recordId: env.recordId, code: e instanceof EhrError ? e.code : 'INTERNAL' });
    }
  }
  return { opened, failed };
}

/**
 * The page's records the vault does not already hold at that version or newer. The others would be
 * skipped by applyServerPage anyway, so they are not opened (no key, no decryption): they are
 * mostly this workstation's own pushes coming back in the next pull, which during an import is
 * every record. Their patients still count as seen (for "data as of"). applyServerPage reads the
 * local versions again inside the page's transaction, on purpose: a local write may land while the
 * page's keys are fetched, and only that read decides what is stored.
 */
function notYetHeld(ctx: SyncContext, records: PulledRecord[], seenPatients: Set<string>): PulledRecord[] {
  const states = ctx.vault.resources.localStates(records.map((r) => r.envelope.recordId));
  if (states.size === 0) return records;
  return records.filter(({ envelope: env }) => {
    const local = states.get(env.recordId);
    if (!local || local.version < env.version) return true;
    seenPatients.add(env.patientId);
    return false;
  });
}

/**
 * Stores opened records (call inside the page's vault transaction): one bulk apply per page.
 * Validation refusals of records checked at pull time (Patient, conflict side) are skipped by id;
 * storage failures abort the page (and keep the cursor).
 */
function storeRecords(ctx: SyncContext, opened: OpenedRecord[], failed: { recordId: string; code: string }[], report: PullReport, seenPatients: Set<string>): void {
  const { stored, patients, changed } = applyServerPage(ctx.vault, opened, (recordId, code) => failed.push({ recordId, code }));
  report.stored += stored;
  for (const p of patients) seenPatients.add(p);
  for (const p of changed) report.changedPatients.add(p);
  if (failed.length) noteSkippedMany(ctx, failed);
}

/** Pulls every page from the saved cursor until the server has no more. Transient errors propagate (cursor kept). */
export async function pullChanges(ctx: SyncContext, onProgress?: (p: PullProgress) => void): Promise<PullReport> {
  const { vault } = ctx;
  const report: PullReport = { received: 0, stored: 0, skipped: 0, pages: 0, changedPatients: new Set(), timings: { fetchMs: 0, openMs: 0, storeMs: 0 } };
  let t = performance.now();
  const lap = (k: keyof PullReport['timings']): void => {
    const n = performance.now();
    report.timings[k] += n - t;
    t = n;
  };
  // "Data as of" is the server's clock at this pull's first page (a record changed after it has a
  // later seq, so it is on a later page of this pull or of the next); our own clock if the server is older.
  let startedAt: string | null = null;
  const seenPatients = new Set<string>();
  let done = Number(vault.kv.get(KV.pullReceived) ?? '0');
  const memo: KeyMemo = new Map();
  const fetchPage = (cursor: string | null): Promise<PullResponse> => {
    const p = ctx.client.pull({ ...(cursor ? { cursor } : {}), limit: ctx.pullLimit }, { signal: ctx.signal });
    p.catch(() => {}); // a prefetch that fails is reported when awaited, never as an unhandled rejection
    return p;
  };
  // The next page is requested while this one is opened and stored (the server's latency hides
  // behind our work). Only the stored cursor counts: a kill loses at most the prefetched page.
  let next = fetchPage(vault.kv.get(KV.pullCursor));
  for (;;) {
    if (ctx.signal?.aborted) return report;
    lap('storeMs');
    const page = await next;
    lap('fetchMs');
    startedAt ??= page.serverTime ?? ctx.now().toISOString();
    if (page.hasMore) {
      next = fetchPage(page.nextCursor);
      // Let the request reach the socket before this page's synchronous work: http writes it on a
      // later tick, and otherwise the server would only hear of it once this page is stored.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const { opened, failed } = await openPage(ctx, notYetHeld(ctx, page.records, seenPatients), memo);
    lap('openMs');
    vault.transaction(() => {
      storeRecords(ctx, opened, failed, report, seenPatients);
      done += page.records.length;
      vault.kv.set(KV.pullCursor, page.nextCursor);
      vault.kv.set(KV.pullReceived, String(page.hasMore ? done : 0));
    });
    report.received += page.records.length;
    report.skipped += failed.length;
    report.pages++;
    onProgress?.({ done, total: Math.max(page.total, done) });
    if (!page.hasMore) break;
  }
  lap('storeMs');
  const asOf = startedAt ?? ctx.now().toISOString();
  vault.transaction(() => {
    markDataAsOf(ctx, seenPatients, asOf);
    vault.kv.set(KV.lastCompletePullAt, asOf);
  });
  return report;
}

/** "Data as of": the server time the last complete pull began, per patient in scope (or seen in it). */
function markDataAsOf(ctx: SyncContext, seen: Set<string>, at: string, withScope = true): void {
  const scope = withScope ? ctx.vault.kv.getJson<{ patientIds: string[] }>(KV.scope)?.patientIds ?? [] : [];
  const map = ctx.vault.kv.getJson<Record<string, string>>(KV.dataAsOf) ?? {};
  for (const p of [...scope, ...seen]) map[p] = at;
  ctx.vault.kv.setJson(KV.dataAsOf, map);
}

type HistoryQueue = Record<string, string>;
const historyQueue = (ctx: SyncContext): HistoryQueue => ctx.vault.kv.getJson<HistoryQueue>(KV.history) ?? {};

/**
 * Access to these patients was gained (break-glass grant, care-team addition, access back after a
 * purge): their records older than the main cursor never come with it, so each is pulled by
 * `patientId` from the start (docs/server.md). Queued in kv, so a restart resumes it.
 */
export function queueHistory(ctx: SyncContext, patientIds: Iterable<string>): void {
  const queue = historyQueue(ctx);
  let changed = false;
  for (const p of patientIds) {
    if (p in queue) continue;
    queue[p] = '';
    changed = true;
  }
  if (changed) ctx.vault.kv.setJson(KV.history, queue);
}

export function pendingHistory(ctx: SyncContext): string[] {
  return Object.keys(historyQueue(ctx));
}

/**
 * Pulls the queued patients' records to completion, page by page, each page stored with the
 * patient's cursor in one vault transaction (resumable like the main pull). A patient whose access
 * ended meanwhile (FORBIDDEN) leaves the queue. Transient errors propagate (cursor kept).
 */
export async function pullHistories(ctx: SyncContext): Promise<PullReport> {
  const report: PullReport = { received: 0, stored: 0, skipped: 0, pages: 0, changedPatients: new Set(), timings: { fetchMs: 0, openMs: 0, storeMs: 0 } };
  const memo: KeyMemo = new Map();
  for (const patientId of pendingHistory(ctx)) {
    if (ctx.signal?.aborted) return report;
    let startedAt: string | null = null;
    const seen = new Set<string>([patientId]);
    const setCursor = (cursor: string | null): void => {
      const queue = historyQueue(ctx);
      if (cursor === null) delete queue[patientId];
      else queue[patientId] = cursor;
      ctx.vault.kv.setJson(KV.history, queue);
    };
    let cursor = historyQueue(ctx)[patientId] ?? '';
    try {
      for (;;) {
        if (ctx.signal?.aborted) return report;
        const page = await ctx.client.pull({ patientId, ...(cursor ? { cursor } : {}), limit: ctx.pullLimit }, { signal: ctx.signal });
        startedAt ??= page.serverTime ?? ctx.now().toISOString();
        // Only this patient's records belong here (the server filters; we check).
        const mine = page.records.filter((r) => r.envelope.patientId === patientId);
        const { opened, failed } = await openPage(ctx, notYetHeld(ctx, mine, seen), memo);
        ctx.vault.transaction(() => {
          storeRecords(ctx, opened, failed, report, seen);
          setCursor(page.hasMore ? page.nextCursor : null);
        });
        report.received += mine.length;
        report.skipped += failed.length;
        report.pages++;
        if (!page.hasMore) break;
        cursor = page.nextCursor;
      }
    } catch (e) {
      if (e instanceof EhrError && (e.code === ErrorCode.FORBIDDEN || e.code === ErrorCode.NOT_FOUND)) {
        setCursor(null);
        continue;
      }
      throw e;
    }
    markDataAsOf(ctx, seen, startedAt ?? ctx.now().toISOString(), false);
  }
  return report;
}
