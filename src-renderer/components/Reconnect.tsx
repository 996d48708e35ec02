/**
 * After an offline sign-in the workstation has no server session, so nothing syncs until the user
 * signs in online again (main says "Sign in to sync with the server."). This asks for the password
 * in place — the same user's login resumes their session — and then syncs.
 */
import { useCallback, useState, type FormEvent } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { login } from '../actions/session-actions';
import { syncNow } from '../actions/sync-actions';
import { useAsyncAction } from './useAsyncAction';

export function Reconnect() {
  const ctx = useApp();
  const username = useEhr((s) => s.user?.username ?? '');
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const reconnect = useCallback(async (p: string) => {
    await login(ctx, username, p);
    await syncNow(ctx);
  }, [ctx, username]);
  const { run, busy, error } = useAsyncAction(reconnect);

  if (!open) return <button type="button" onClick={() => setOpen(true)}>Sign in to sync</button>;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(password).then((ok) => {
      setPassword('');
      if (ok) setOpen(false);
    });
  };
  return (
    <form className="row" onSubmit={submit} style={{ alignItems: 'center' }}>
      <label htmlFor="reconnect-password" style={{ marginBottom: 0 }}>Password</label>
      <input id="reconnect-password" type="password" autoComplete="current-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} required />
      <button type="submit" className="primary" disabled={busy}>Reconnect</button>
      {error && <span className="error" role="alert">{error}</span>}
    </form>
  );
}
