/**
 * The client and the actions against a scripted bridge: error mapping, the lock racing a fetch,
 * debounced search, break-glass on FORBIDDEN, and main's events clearing PHI.
 */
import { describe, expect, it, vi } from 'vitest';
import { createEhrClient, EhrCallError } from '../../src-renderer/client/ehr-client';
import { createEhrStore } from '../../src-renderer/state/store';
import { createSearcher, loadMyPatients, openChart } from '../../src-renderer/actions/patient-actions';
import { login, trackActivity, wireSessionEvents } from '../../src-renderer/actions/session-actions';
import type { AppContext } from '../../src-renderer/actions/context';
import type { EhrBridge, ApiResult } from '../../src-shared/api/bridge';
import type { Chart, PatientSummary, SessionStatus } from '../../src-shared/api/types';

const CANARY = 'Canarywhistle';
const status: SessionStatus = {
  state: 'active', user: { userId: 'u1', username: 'nurse', displayName: 'Nurse', roles: ['nurse'] }, lockAt: 1_000_000 + 15 * 60_000,
  warningAt: null, offline: false, breakGlass: [], sessions: [], lockTimeoutMinutes: 15, lockWarningSeconds: 60, videoVisits: true, visitRecording: true,
};
const chart: Chart = { patient: { resourceType: 'Patient', id: 'p1', name: [{ family: CANARY }] }, access: 'care-team', records: [] };

type Handler = (input: unknown) => Promise<ApiResult<unknown>> | ApiResult<unknown>;

/** A bridge whose channels are scripted per test, with an `emit` for main's events. */
function scriptedBridge(handlers: Record<string, Handler>) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: Array<[string, unknown]> = [];
  const bridge: EhrBridge = {
    invoke: (async (channel: string, input: unknown) => {
      calls.push([channel, input]);
      const h = handlers[channel];
      return h ? h(input) : { ok: true, value: {} };
    }) as EhrBridge['invoke'],
    on: ((event: string, l: (p: unknown) => void) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(l);
      return () => listeners.get(event)!.delete(l);
    }) as EhrBridge['on'],
  };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload));
  return { bridge, calls, emit };
}

async function signedInContext(handlers: Record<string, Handler>) {
  const b = scriptedBridge({
    'auth.login': () => ({ ok: true, value: status }),
    'session.heartbeat': () => ({ ok: true, value: { lockAt: status.lockAt } }),
    ...handlers,
  });
  const ctx: AppContext = { client: createEhrClient(b.bridge), store: createEhrStore() };
  await login(ctx, 'nurse', 'pw');
  return { ...b, ctx };
}

describe('client', () => {
  it('turns { ok: false } into an EhrCallError with code and message', async () => {
    const { bridge } = scriptedBridge({ 'session.status': () => ({ ok: false, error: { code: 'LOCKED', message: 'Locked.' } }) });
    const err = await createEhrClient(bridge).call('session.status', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EhrCallError);
    expect(err).toMatchObject({ code: 'LOCKED', message: 'Locked.', channel: 'session.status' });
  });
});

describe('actions', () => {
  it('login mirrors the session and learns main’s clock from the heartbeat', async () => {
    const { ctx } = await signedInContext({});
    const s = ctx.store.getState();
    expect(s.user?.userId).toBe('u1');
    expect(Math.abs(s.coreOffsetMs - (1_000_000 - Date.now()))).toBeLessThan(1000);
  });

  it('drops a chart that arrives after the lock', async () => {
    let answer!: (r: ApiResult<unknown>) => void;
    const { ctx, emit } = await signedInContext({ 'patients.open': () => new Promise((r) => (answer = r)) });
    wireSessionEvents(ctx);
    const opening = openChart(ctx, 'p1');
    emit('session.locked', { reason: 'idle', userId: 'u1' });
    answer({ ok: true, value: chart });
    expect(await opening).toEqual({ ok: false, reason: 'dropped' });
    expect(ctx.store.getState().chart).toBeNull();
    expect(JSON.stringify(ctx.store.getState())).not.toContain(CANARY);
  });

  it('"my patients": pages through patients.mine into the store; a lock clears it and drops a late page', async () => {
    const row = (i: number): PatientSummary => ({ id: `p${i}`, mrn: `M${i}`, family: `${CANARY}${i}`, given: ['Z'], birthDate: '1931-02-28', gender: 'male', access: 'care-team' });
    const rows = Array.from({ length: 150 }, (_, i) => row(i));
    let hold: Promise<void> | null = null;
    const { ctx, emit, calls } = await signedInContext({
      'patients.mine': async (input) => {
        if (hold) await hold;
        const { offset = 0, limit = 50 } = input as { offset?: number; limit?: number };
        const patients = rows.slice(offset, offset + limit);
        return { ok: true, value: { patients, nextOffset: offset + patients.length < rows.length ? offset + patients.length : null } };
      },
    });
    wireSessionEvents(ctx);
    expect((await loadMyPatients(ctx))?.length).toBe(150);
    expect(ctx.store.getState().myPatients.map((p) => p.id)).toEqual(rows.map((p) => p.id));
    expect(calls.filter(([c]) => c === 'patients.mine').map(([, i]) => i)).toEqual([{ offset: 0, limit: 100 }, { offset: 100, limit: 100 }]);
    emit('session.locked', { reason: 'idle', userId: 'u1' });
    expect(ctx.store.getState().myPatients).toEqual([]);
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const late = loadMyPatients(ctx);
    emit('session.locked', { reason: 'idle', userId: 'u1' });
    release();
    expect(await late).toBeNull();
    expect(JSON.stringify(ctx.store.getState())).not.toContain(CANARY);
  });

  it('opens the break-glass dialog when main answers FORBIDDEN', async () => {
    const { ctx } = await signedInContext({ 'patients.open': () => ({ ok: false, error: { code: 'FORBIDDEN', message: 'Not in your care team.' } }) });
    expect(await openChart(ctx, 'p9')).toMatchObject({ ok: false, reason: 'break-glass' });
    expect(ctx.store.getState().breakGlassFor).toBe('p9');
  });

  it('closes the chart and clears PHI when the break-glass grant expires', async () => {
    const { ctx, emit } = await signedInContext({ 'patients.open': () => ({ ok: true, value: chart }) });
    wireSessionEvents(ctx);
    ctx.store.getState().grantStarted({ grantId: 'g1', patientId: 'p1', reason: 'ETREAT', startedAt: 0, expiresAt: 1 });
    await openChart(ctx, 'p1');
    expect(ctx.store.getState().chart).not.toBeNull();
    emit('breakGlass.expired', { patientId: 'p1', grantId: 'g1' });
    const s = ctx.store.getState();
    expect(s.chart).toBeNull();
    expect(s.grants).toEqual([]);
    expect(s.screen).toBe('patients');
  });

  it('search-as-you-type sends one request per pause and keeps only the latest answer', async () => {
    vi.useFakeTimers();
    try {
      const { ctx, calls } = await signedInContext({
        'patients.search': (input) => ({ ok: true, value: [{ id: JSON.stringify(input), mrn: null, family: CANARY, given: [], birthDate: null, gender: null, access: 'care-team' }] }),
      });
      const searcher = createSearcher(ctx, 150);
      for (const q of ['C', 'Ca', 'Can', 'Cana']) {
        searcher.type(q);
        await vi.advanceTimersByTimeAsync(40);
      }
      await vi.advanceTimersByTimeAsync(200);
      await searcher.settled();
      const searches = calls.filter(([c]) => c === 'patients.search');
      expect(searches).toEqual([['patients.search', { name: 'Cana', limit: 25 }]]);
      expect(ctx.store.getState().query).toBe('Cana');
      expect(ctx.store.getState().results?.[0]?.id).toContain('Cana');
    } finally {
      vi.useRealTimers();
    }
  });

  it('never lets a slow answer to an older query replace a newer one', async () => {
    const answers = new Map<string, (r: ApiResult<unknown>) => void>();
    const { ctx } = await signedInContext({
      'patients.search': (input) => new Promise((r) => answers.set((input as { name: string }).name, r)),
    });
    const row = (id: string) => ({ id, mrn: null, family: id, given: [], birthDate: null, gender: null, access: 'care-team' });
    const searcher = createSearcher(ctx, 0);
    searcher.type('Can');
    await vi.waitFor(() => expect(answers.has('Can')).toBe(true));
    searcher.type('Canary');
    await vi.waitFor(() => expect(answers.has('Canary')).toBe(true));
    answers.get('Canary')!({ ok: true, value: [row('new')] });
    await searcher.settled();
    answers.get('Can')!({ ok: true, value: [row('old')] });
    await new Promise((r) => setTimeout(r, 0));
    expect(ctx.store.getState().results?.map((p) => p.id)).toEqual(['new']);
    expect(ctx.store.getState().resultsFor).toBe('Canary');
  });

  it('the renderer’s own timer locks after the policy’s minutes without input; input postpones it', async () => {
    vi.useFakeTimers();
    try {
      const { ctx, calls } = await signedInContext({ 'patients.open': () => ({ ok: true, value: chart }) });
      await openChart(ctx, 'p1');
      // A window stand-in: input events and timers are all trackActivity uses.
      const target = Object.assign(new EventTarget(), {
        setInterval: (fn: () => void, ms: number) => setInterval(fn, ms),
        clearInterval: (t: ReturnType<typeof setInterval>) => clearInterval(t),
      }) as unknown as Window;
      const stop = trackActivity(ctx, target, 10_000);
      await vi.advanceTimersByTimeAsync(14 * 60_000);
      target.dispatchEvent(new Event('keydown'));
      await vi.advanceTimersByTimeAsync(14 * 60_000);
      expect(ctx.store.getState().lock).toBe('open');
      expect(calls.filter(([c]) => c === 'session.heartbeat').length).toBeGreaterThanOrEqual(2);
      await vi.advanceTimersByTimeAsync(60_000 + 5_000);
      expect(ctx.store.getState().lock).toBe('locked');
      expect(ctx.store.getState().chart).toBeNull();
      expect(calls.some(([c]) => c === 'session.lock')).toBe(true);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
