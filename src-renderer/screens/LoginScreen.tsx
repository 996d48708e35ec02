/** Sign in. Shows whether the server is reachable; offline sign-in works only as IT policy allows (main decides). */
import { useCallback, useState, type FormEvent } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { login } from '../actions/session-actions';
import { useAsyncAction } from '../components/useAsyncAction';
import { isOnline } from '../state/sync-slice';

const CONNECTION_TEXT = {
  online: 'Server reachable',
  offline: 'Server unreachable: sign-in uses this workstation’s saved credentials, if IT policy allows',
  unknown: 'Server connection is checked when you sign in (offline sign-in works if IT policy allows)',
} as const;

export function LoginScreen() {
  const ctx = useApp();
  const connection = useEhr((s) => (!s.syncKnown ? 'unknown' : isOnline(s.sync) ? 'online' : 'offline'));
  const waiting = useEhr((s) => s.waitingSessions);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const doLogin = useCallback((u: string, p: string) => login(ctx, u, p), [ctx]);
  const { run, busy, error } = useAsyncAction(doLogin);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(username, password).then(() => setPassword(''));
  };

  return (
    <main className="center-panel">
      <form className="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Clinic EHR — sign in</h1>
        <p role="status" data-testid="connection">
          <span className={`dot ${connection}`} aria-hidden="true" />
          {CONNECTION_TEXT[connection]}
        </p>
        {error && <p className="form-error" role="alert">{error}</p>}
        {waiting.length > 0 && (
          <div className="field" data-testid="waiting-sessions">
            <span>Signed in here (locked): choose yourself, then enter your password</span>
            <div className="row">
              {waiting.map((w) => (
                <button key={w.userId} type="button" aria-pressed={username === w.username} onClick={() => setUsername(w.username)}>{w.displayName}</button>
              ))}
            </div>
          </div>
        )}
        <div className="field">
          <label htmlFor="username">Username</label>
          <input id="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </div>
        <button className="primary" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
