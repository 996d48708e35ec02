/**
 * The renderer's side of a shared workstation and of an honest sync status: "Switch user" on the
 * lock screen (the previous user's PHI gone, the waiting colleague offered at sign-in), an open
 * chart re-read only when a background sync changed it, and a status bar whose "data as of" is the
 * last complete pull (not the last attempt), with the pull's progress while one runs.
 */
import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { AppProvider } from '../../src-renderer/app/app-context';
import { createEhrClient } from '../../src-renderer/client/ehr-client';
import { createEhrStore, type EhrStore } from '../../src-renderer/state/store';
import { login, switchUser, wireSessionEvents } from '../../src-renderer/actions/session-actions';
import { openChart } from '../../src-renderer/actions/patient-actions';
import { LockScreen } from '../../src-renderer/screens/LockScreen';
import { LoginScreen } from '../../src-renderer/screens/LoginScreen';
import { StatusBar } from '../../src-renderer/components/StatusBar';
import type { AppContext } from '../../src-renderer/actions/context';
import type { ApiResult, EhrBridge } from '../../src-shared/api/bridge';
import type { Chart, SessionStatus, SyncStatus } from '../../src-shared/api/types';

const nurseA = { userId: 'u-a', username: 'nurse.a', displayName: 'Ann Ward-A', roles: ['nurse' as const] };
const nurseB = { userId: 'u-b', username: 'nurse.b', displayName: 'Bea Ward-B', roles: ['nurse' as const] };
const active = (user: typeof nurseA, others: Array<typeof nurseA> = []): SessionStatus => ({
  state: 'active', user, lockAt: Date.now() + 15 * 60_000, warningAt: null, offline: false, breakGlass: [],
  sessions: [user, ...others].map((u) => ({ userId: u.userId, username: u.username, displayName: u.displayName, state: u === user ? 'active' : 'locked' })),
  lockTimeoutMinutes: 15, lockWarningSeconds: 60, videoVisits: true, visitRecording: true,
});
const chart: Chart = { patient: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Wardapatient' }] }, access: 'care-team', records: [] };

function setup(handlers: Record<string, (input: unknown) => ApiResult<unknown>>) {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const calls: string[] = [];
  const bridge = {
    invoke: async (channel: string, input: unknown) => {
      calls.push(channel);
      return handlers[channel]?.(input) ?? { ok: true, value: {} };
    },
    on: (event: string, l: (p: unknown) => void) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(l);
      return () => listeners.get(event)!.delete(l);
    },
  } as unknown as EhrBridge;
  const ctx: AppContext = { client: createEhrClient(bridge), store: createEhrStore() };
  const emit = (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload));
  return { ctx, calls, emit };
}

function render(store: EhrStore, node: React.ReactNode, ctx: AppContext): string {
  Object.assign(store, { getInitialState: () => store.getState() });
  return renderToStaticMarkup(<AppProvider ctx={ctx}>{node}</AppProvider>);
}

describe('switch user', () => {
  it('the lock screen offers it; switching drops the chart and the sign-in screen offers the waiting colleague', async () => {
    const none: SessionStatus = { ...active(nurseA), state: 'none', user: null, lockAt: null, sessions: [{ ...nurseA, state: 'locked' }] };
    const { ctx, calls } = setup({
      'auth.login': () => ({ ok: true, value: active(nurseA) }),
      'session.heartbeat': () => ({ ok: true, value: { lockAt: null } }),
      'patients.open': () => ({ ok: true, value: chart }),
      'auth.switchUser': () => ({ ok: true, value: none }),
    });
    await login(ctx, 'nurse.a', 'pw');
    await openChart(ctx, 'p1');
    ctx.store.getState().locked('user');
    expect(render(ctx.store, <LockScreen />, ctx)).toContain('Switch user');
    await switchUser(ctx);
    expect(calls).toContain('auth.switchUser');
    const s = ctx.store.getState();
    expect(s.user).toBeNull();
    expect(s.chart).toBeNull();
    expect(JSON.stringify(s)).not.toContain('Wardapatient');
    const html = render(ctx.store, <LoginScreen />, ctx);
    expect(html).toContain('data-testid="waiting-sessions"');
    expect(html).toContain('Ann Ward-A');
  });
});

describe('an open chart and background sync', () => {
  it('is re-read only when a sync changed that patient', async () => {
    const { ctx, calls, emit } = setup({
      'auth.login': () => ({ ok: true, value: active(nurseB) }),
      'session.heartbeat': () => ({ ok: true, value: { lockAt: null } }),
      'patients.open': () => ({ ok: true, value: chart }),
    });
    wireSessionEvents(ctx);
    await login(ctx, 'nurse.b', 'pw');
    await openChart(ctx, 'p1');
    const opens = () => calls.filter((c) => c === 'patients.open').length;
    expect(opens()).toBe(1);
    emit('records.changed', { patientIds: ['p2', 'p3'] });
    await new Promise((r) => setTimeout(r, 0));
    expect(opens()).toBe(1);
    emit('records.changed', { patientIds: ['p3', 'p1'] });
    await new Promise((r) => setTimeout(r, 0));
    expect(opens()).toBe(2);
    ctx.store.getState().locked('idle');
    emit('records.changed', { patientIds: ['p1'] });
    await new Promise((r) => setTimeout(r, 0));
    expect(opens()).toBe(2);
  });
});

describe('status bar', () => {
  const base: SyncStatus = { state: 'idle', pendingMutations: 0, conflicts: 0, lastSyncAt: Date.parse('2026-12-06T10:30:00Z') };
  function bar(sync: SyncStatus): string {
    const { ctx } = setup({});
    ctx.store.getState().signedIn(nurseA);
    ctx.store.getState().syncStatus(sync);
    return render(ctx.store, <StatusBar />, ctx);
  }

  it('"data as of" is the last complete pull, not the last attempt', () => {
    const never = bar(base);
    expect(never).toMatch(/data-as-of">Data as of not yet synced/);
    const html = bar({ ...base, dataAsOfAt: Date.parse('2026-12-05T08:15:00Z') });
    const asOf = /data-as-of">Data as of ([^<]*)</.exec(html)?.[1];
    const last = /last-sync">Last sync ([^<]*)</.exec(html)?.[1];
    expect(asOf).toBeTruthy();
    expect(asOf).not.toBe(last);
  });

  it('shows the pull in flight: records and a bar', () => {
    const html = bar({ ...base, state: 'syncing', pull: { done: 1200, total: 5000 } });
    expect(html).toContain('data-testid="pull-progress"');
    expect(html).toMatch(/<progress[^>]*max="5000"[^>]*value="1200"/);
    expect(html).toMatch(/1,200.*5,000/);
    expect(bar({ ...base, pull: null })).not.toContain('pull-progress');
  });
});
