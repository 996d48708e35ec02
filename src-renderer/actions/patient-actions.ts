/**
 * Patient search and chart opening.
 *
 * Search-as-you-type: each keystroke stores the query at once (the box stays responsive), and the
 * request goes out after a short pause; answers to an older query are dropped, so results never
 * flicker back to what was typed before.
 */
import type { AppContext } from './context';
import { fetchPhi } from './context';
import { errorCode } from '../client/ehr-client';
import { parseSearchQuery } from '../search/parse-query';
import type { Chart, PatientPage, PatientSummary } from '../../src-shared/api/types';

/** Long enough to merge a burst (paste, key repeat), short enough that results follow typing (<= 100 ms target). */
export const SEARCH_DEBOUNCE_MS = 30;

export interface Searcher {
  type(query: string): void;
  /** Resolves when the answer to the latest query is in the store (tests, benchmark). */
  settled(): Promise<void>;
  cancel(): void;
}

export function createSearcher(ctx: AppContext, debounceMs = SEARCH_DEBOUNCE_MS): Searcher {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;
  let pending: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;

  const run = async (mySeq: number, query: string) => {
    const input = parseSearchQuery(query);
    try {
      if (!input) {
        ctx.store.getState().putPhi(ctx.store.getState().phiEpoch, { results: null, resultsFor: '' });
        return;
      }
      const epoch = ctx.store.getState().phiEpoch;
      const results = await ctx.client.call('patients.search', input);
      if (mySeq === seq) ctx.store.getState().putPhi(epoch, { results, resultsFor: query });
    } catch (e) {
      if (mySeq === seq) ctx.store.getState().setNotice(`Search failed (${errorCode(e)}).`);
    } finally {
      if (mySeq === seq) release();
    }
  };

  return {
    type(query) {
      const s = ctx.store.getState();
      s.putPhi(s.phiEpoch, { query });
      const mySeq = ++seq;
      if (timer) clearTimeout(timer);
      else pending = new Promise<void>((r) => (release = r));
      timer = setTimeout(() => {
        timer = null;
        void run(mySeq, query);
      }, debounceMs);
    },
    settled: () => pending,
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
      seq++;
      release();
    },
  };
}

/** At most this many "my patients" are fetched (pages of 100); search covers the rest. */
export const MY_PATIENTS_MAX = 500;

/**
 * "My patients": the signed-in clinician's care-team patients (patients.mine, paged), into the PHI
 * slice (dropped if a lock or logout happened meanwhile). Every page is an audited read of each
 * patient it returns, so it is asked for when the list is shown, not on every render.
 */
export async function loadMyPatients(ctx: AppContext): Promise<PatientSummary[] | null> {
  return fetchPhi(
    ctx,
    async () => {
      const all: PatientSummary[] = [];
      let offset: number | null = 0;
      while (offset !== null && all.length < MY_PATIENTS_MAX) {
        const page: PatientPage = await ctx.client.call('patients.mine', { offset, limit: 100 });
        all.push(...page.patients);
        offset = page.nextOffset;
      }
      return all;
    },
    (myPatients) => ({ myPatients }),
  );
}

/** Recently opened patients (this session, in memory): the working list of the day. */
function remember(recent: PatientSummary[], p: PatientSummary): PatientSummary[] {
  return [p, ...recent.filter((r) => r.id !== p.id)].slice(0, 20);
}

export type OpenResult = { ok: true; chart: Chart } | { ok: false; reason: 'break-glass' | 'dropped' | 'error'; code?: string };

/**
 * Open a chart. A patient outside the care team (or restricted) answers FORBIDDEN: then the
 * break-glass dialog opens for that patient instead.
 */
export async function openChart(
  ctx: AppContext, patientId: string, summary?: PatientSummary, opts: { quietNotFound?: boolean } = {},
): Promise<OpenResult> {
  const s = ctx.store.getState();
  try {
    const chart = await fetchPhi(ctx, () => ctx.client.call('patients.open', { patientId }), (chart) => ({
      chart,
      recent: summary ? remember(ctx.store.getState().recent, summary) : ctx.store.getState().recent,
    }));
    if (!chart) return { ok: false, reason: 'dropped' };
    ctx.store.getState().navigate('chart', patientId);
    return { ok: true, chart };
  } catch (e) {
    const code = errorCode(e);
    if (code === 'FORBIDDEN') {
      s.openBreakGlass(patientId);
      return { ok: false, reason: 'break-glass', code };
    }
    if (!(opts.quietNotFound && code === 'NOT_FOUND')) s.setNotice(`The chart could not be opened (${code}).`);
    return { ok: false, reason: 'error', code };
  }
}

/** Re-read the open chart (after a save, a sync, an unlock). */
export async function reloadChart(ctx: AppContext): Promise<void> {
  const id = ctx.store.getState().patientId;
  if (!id) return;
  await fetchPhi(ctx, () => ctx.client.call('patients.open', { patientId: id }), (chart) => ({ chart }));
}

/**
 * The open chart's next timeline page (older by clinical date), appended to it. Returns false when
 * there is nothing older, the chart changed meanwhile, or a lock dropped the answer.
 */
export async function loadOlderRecords(ctx: AppContext): Promise<boolean> {
  const { chart, patientId } = ctx.store.getState();
  const before = chart?.paging?.olderCursor;
  if (!chart || !patientId || !before) return false;
  const page = await fetchPhi(ctx, () => ctx.client.call('records.older', { patientId, before }), (page) => {
    const now = ctx.store.getState().chart;
    // Only onto the chart the page was asked for (not one reloaded or switched meanwhile).
    if (!now || now !== chart) return {};
    const known = new Set(now.records.map((r) => r.id));
    return {
      chart: {
        ...now,
        records: [...now.records, ...page.records.filter((r) => !known.has(r.id))],
        ...(now.paging ? { paging: { ...now.paging, olderCursor: page.olderCursor } } : {}),
      },
    };
  });
  return page !== null && ctx.store.getState().chart !== chart;
}
