/**
 * The lock screen. Rendered INSTEAD of the app shell, so no PHI component is mounted while locked.
 * Focus goes to the password field when it appears (and back to the screen's heading in the shell
 * after unlock, see Shell).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { logout, switchUser, unlock } from '../actions/session-actions';
import { useAsyncAction } from '../components/useAsyncAction';
import { callService } from '../visit/call';

const REASONS: Record<string, string> = {
  idle: 'locked after a period without activity',
  'screen-lock': 'locked because the computer’s screen was locked',
  suspend: 'locked because the computer went to sleep',
  user: 'locked',
  'switch-user': 'locked while another user signs in',
};

export function LockScreen() {
  const ctx = useApp();
  const user = useEhr((s) => s.user);
  const reason = useEhr((s) => s.lockReason);
  const callRunning = useEhr((s) => s.visit !== null && s.visit.status !== 'ended');
  const [password, setPassword] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const doUnlock = useCallback((p: string) => unlock(ctx, p), [ctx]);
  const { run, busy, error } = useAsyncAction(doUnlock);

  useEffect(() => input.current?.focus(), []);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(password).then(() => setPassword(''));
  };

  return (
    <main className="center-panel" data-testid="lock-screen">
      <form className="card" onSubmit={submit} aria-labelledby="lock-title">
        <h1 id="lock-title">Workstation locked</h1>
        <p>{user?.displayName}: session {REASONS[reason ?? 'user'] ?? 'locked'}. Patient data is hidden; drafts are kept.</p>
        {callRunning && (
          // No patient name and no video here: only that a call runs, and a way to end it.
          <p role="status" data-testid="lock-visit">
            A video visit is in progress; audio continues.{' '}
            <button type="button" onClick={() => callService(ctx).hangUp('You ended the visit.')}>End video visit</button>
          </p>
        )}
        {error && <p className="form-error" role="alert">{error}</p>}
        <div className="field">
          <label htmlFor="unlock-password">Password</label>
          <input id="unlock-password" ref={input} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </div>
        <div className="row">
          <button className="primary" type="submit" disabled={busy}>Unlock</button>
          <button type="button" onClick={() => void switchUser(ctx).catch(() => undefined)}>Switch user</button>
          <button type="button" onClick={() => void logout(ctx)}>Sign out</button>
        </div>
      </form>
    </main>
  );
}
