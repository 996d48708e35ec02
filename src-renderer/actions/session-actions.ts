/**
 * Login, unlock, logout, lock, and the wiring of main's session events into the store.
 *
 * The renderer's own inactivity timer is the first line (it blanks the screen even if an event
 * from main were lost); main's lock is the guarantee (every data call is refused while locked).
 */
import type { AppContext } from './context';
import { runBeforeLock } from './before-lock';
import { reloadChart } from './patient-actions';
import type { SessionStatus } from '../../src-shared/api/types';

export async function login(ctx: AppContext, username: string, password: string): Promise<SessionStatus> {
  const status = await ctx.client.call('auth.login', { username, password });
  ctx.store.getState().applyStatus(status);
  await heartbeat(ctx);
  return status;
}

export async function unlock(ctx: AppContext, password: string): Promise<SessionStatus> {
  const status = await ctx.client.call('auth.unlock', { password });
  ctx.store.getState().applyStatus(status);
  await heartbeat(ctx);
  return status;
}

export async function logout(ctx: AppContext): Promise<void> {
  await runBeforeLock();
  // Clear first: whatever main answers, no PHI stays on screen.
  ctx.store.getState().signedOut();
  const status = await ctx.client.call('auth.logout', {});
  ctx.store.getState().applyStatus(status);
}

/**
 * "Switch user" on the lock screen: the locked session stays in the background (its drafts and
 * grants kept), the store drops everything of it, and the sign-in screen lets a colleague in (or
 * back: signing in again resumes a waiting session, with no new download).
 */
export async function switchUser(ctx: AppContext): Promise<SessionStatus> {
  await runBeforeLock();
  ctx.store.getState().signedOut();
  const status = await ctx.client.call('auth.switchUser', {});
  ctx.store.getState().applyStatus(status);
  return status;
}

export async function lockNow(ctx: AppContext): Promise<void> {
  await runBeforeLock();
  ctx.store.getState().locked('user');
  await ctx.client.call('session.lock', {});
}

export async function refreshStatus(ctx: AppContext): Promise<void> {
  ctx.store.getState().applyStatus(await ctx.client.call('session.status', {}));
}

/** Tell main the user is active; learn main's clock from the new lockAt (= main's now + timeout). */
export async function heartbeat(ctx: AppContext): Promise<void> {
  const sentAt = Date.now();
  const { lockAt } = await ctx.client.call('session.heartbeat', {});
  const s = ctx.store.getState();
  if (lockAt !== null) s.learnCoreNow(lockAt - s.lockTimeoutMinutes * 60_000, sentAt);
  s.warningCleared();
}

/** Subscribe the store to main's events; returns the unsubscribe. */
export function wireSessionEvents(ctx: AppContext): () => void {
  const { client, store } = ctx;
  const offs = [
    client.on('session.changed', (status) => store.getState().applyStatus(status)),
    client.on('session.lockWarning', ({ lockAt, secondsLeft }) => {
      store.getState().learnCoreNow(lockAt - secondsLeft * 1000);
      store.getState().lockWarning(lockAt);
    }),
    client.on('session.locked', ({ reason }) => store.getState().locked(reason)),
    client.on('session.unlocked', () => void refreshStatus(ctx).catch(() => undefined)),
    client.on('sync.status', (status) => store.getState().syncStatus(status)),
    // A background sync changed an open chart: re-read it (one audited read, only when it changed).
    client.on('records.changed', ({ patientIds }) => {
      const s = store.getState();
      if (s.lock === 'locked' || !s.user || !s.patientId || !patientIds.includes(s.patientId)) return;
      void reloadChart(ctx).catch(() => undefined);
    }),
    client.on('breakGlass.expiring', () => store.getState().setNotice('Emergency access ends soon.')),
    client.on('breakGlass.expired', ({ patientId }) => {
      const s = store.getState();
      s.grantEnded(patientId);
      if (s.patientId === patientId) {
        // The chart must close now: drop all PHI (the chart, and any list that shows this patient).
        s.clearPhi();
        s.navigate('patients', null);
        s.setNotice('Emergency (break-glass) access ended; the chart was closed.');
      }
    }),
  ];
  return () => offs.forEach((off) => off());
}

const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;

/**
 * Activity tracking: throttled heartbeats to main, and the renderer's own first-line lock timer
 * (real time since the last input, independent of main's clock).
 */
export function trackActivity(ctx: AppContext, target: Window, throttleMs = 10_000): () => void {
  let lastBeat = 0;
  let lastInput = Date.now();
  const onInput = () => {
    lastInput = Date.now();
    const s = ctx.store.getState();
    if (!s.user || s.lock === 'locked') return;
    // While the warning shows, every input counts at once: the user is trying to stay in.
    if (s.lock === 'warning' || lastInput - lastBeat >= throttleMs) {
      lastBeat = lastInput;
      void heartbeat(ctx).catch(() => undefined);
    }
  };
  for (const e of ACTIVITY_EVENTS) target.addEventListener(e, onInput, { passive: true, capture: true });
  const timer = target.setInterval(() => {
    const s = ctx.store.getState();
    if (s.user && s.lock !== 'locked' && Date.now() - lastInput >= s.lockTimeoutMinutes * 60_000) {
      void lockNow(ctx).catch(() => undefined);
    }
  }, 5_000);
  return () => {
    for (const e of ACTIVITY_EVENTS) target.removeEventListener(e, onInput, { capture: true });
    target.clearInterval(timer);
  };
}
