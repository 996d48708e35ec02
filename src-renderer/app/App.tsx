/**
 * The root: login, lock screen or the app. Which one is decided by the session slice alone, and the
 * lock screen REPLACES the shell: on lock every PHI component unmounts, not just hides.
 */
import { useEffect } from 'react';
import { useApp, useEhr } from './app-context';
import { lockNow, refreshStatus, trackActivity, wireSessionEvents } from '../actions/session-actions';
import { LoginScreen } from '../screens/LoginScreen';
import { LockScreen } from '../screens/LockScreen';
import { Shell } from './Shell';
import { callService } from '../visit/call';

export function App() {
  const ctx = useApp();
  const signedIn = useEhr((s) => s.user !== null);
  const locked = useEhr((s) => s.lock === 'locked');

  useEffect(() => {
    const unwire = wireSessionEvents(ctx);
    const untrack = trackActivity(ctx, window);
    // The call service lives outside this tree (the lock must not cut a call): created and wired once.
    const call = callService(ctx);
    void refreshStatus(ctx)
      .then(() => (ctx.store.getState().videoVisits && ctx.store.getState().lock !== 'locked' ? call.reattach() : undefined))
      .catch(() => undefined);
    return () => {
      unwire();
      untrack();
    };
  }, [ctx]);

  useEffect(() => {
    if (!ctx.store.getState().user) return;
    // Keyboard-first: Ctrl+L locks from anywhere.
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'l') {
        e.preventDefault();
        void lockNow(ctx).catch(() => undefined);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ctx, signedIn]);

  if (!signedIn) return <LoginScreen />;
  if (locked) return <LockScreen />;
  return <Shell />;
}
