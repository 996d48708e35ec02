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
import { EhrError } from '../../../src-shared/errors';
import type { PulledRecord, PullResponse } from '../../../src-shared/sync/sync';
import { KV, type SyncContext } from './context';
import { isTransient } from './http-json';
import { applyServerRecord, openRecord, type Tombstone } from './records';
import { performance } from 'node:perf_hooks';
import type { Resource } from '@medplum/fhirtypes';

export interface PullProgress {
  done: number;
  total: number;
}

export interface PullReport {
  received: number;
  stored: number;
  skipped: number;
  pages: number;
  /** Where the time went (ms): waiting for pages, opening envelopes, storing in the vault. */
  timings: { fetchMs: number; openMs: number; storeMs: number };
}

interface Opened {
  record: PulledRecord;
  value: Resource | Tombstone;
}

/** Skipped records are kept by id (and reason code) for the admin, capped so the list cannot grow without bound. */
function noteSkipped(ctx: SyncContext, recordId: string, code: string): void {
  const list = ctx.vault.kv.getJson<{ recordId: string; code: string }[]>(KV.skipped) ?? [];
  if (!list.some((s) => s.recordId === recordId)) ctx.vault.kv.setJson(KV.skipped, [...list, { recordId, code }].slice(-1000));
}

/** Keys looked up once per pull, not once per record (a page has many records of few patients). */
type KeyMemo = Map<string, DataKey>;

async function openPage(ctx: SyncContext, records: PulledRecord[], memo: KeyMemo): Promise<{ opened: Opened[]; failed: { recordId: string; code: string }[] }> {
  const opened: Opened[] = [];
  const failed: { recordId: string; code: string }[] = [];
  for (const record of records) {
    const env = record.envelope as Envelope;
    try {
      const memoKey = `${env.patientId}\u0000${env.keyId}`;
      let key = memo.get(memoKey);
      if (!key) {
        key = await ctx.keys.openingKey(env.patientId, env.keyId);
        memo.set(memoKey, key);
      }
      opened.push({ record, value: openRecord(env, key) });
    } catch (e) {
      if (isTransient(e)) throw e;
      failed.push({ recordId: env.recordId, code: e instanceof EhrError ? e.code : 'INTERNAL' });
    }
  }
  return { opened, failed };
}

/** Pulls every page from the saved cursor until the server has no more. Transient errors propagate (cursor kept). */
export async function pullChanges(ctx: SyncContext, onProgress?: (p: PullProgress) => void): Promise<PullReport> {
  const { vault } = ctx;
  const report: PullReport = { received: 0, stored: 0, skipped: 0, pages: 0, timings: { fetchMs: 0, openMs: 0, storeMs: 0 } };
  let t = performance.now();
  const lap = (k: keyof PullReport['timings']): void => {
    const n = performance.now();
    report.timings[k] += n - t;
    t = n;
  };
  const startedAt = ctx.now().toISOString();
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
    if (page.hasMore) next = fetchPage(page.nextCursor);
    const { opened, failed } = await openPage(ctx, page.records, memo);
    lap('openMs');
    vault.transaction(() => {
      for (const { record, value } of opened) {
        try {
          const outcome = applyServerRecord(vault, record.envelope as Envelope, record.meta, value);
          if (outcome === 'stored' || outcome === 'deleted') report.stored++;
          seenPatients.add(record.envelope.patientId);
        } catch (e) {
          // Only a validation refusal is skipped; storage failures abort the page (and keep the cursor).
          if (!(e instanceof EhrError) || e.code !== 'INVALID') throw e;
          failed.push({ recordId: record.envelope.recordId, code: e.code });
        }
      }
      for (const f of failed) noteSkipped(ctx, f.recordId, f.code);
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
  markDataAsOf(ctx, seenPatients, startedAt);
  return report;
}

/** "Data as of": the time the last complete pull began, per patient in scope (or seen in it). */
function markDataAsOf(ctx: SyncContext, seen: Set<string>, at: string): void {
  const scope = ctx.vault.kv.getJson<{ patientIds: string[] }>(KV.scope)?.patientIds ?? [];
  const map = ctx.vault.kv.getJson<Record<string, string>>(KV.dataAsOf) ?? {};
  for (const p of [...scope, ...seen]) map[p] = at;
  ctx.vault.kv.setJson(KV.dataAsOf, map);
}
