/**
 * Sync status: online/offline, pending changes, conflicts, last sync, the pull in flight (records
 * and a bar: a first sync can take a while) and "data as of" — the server's time of the last pull
 * that ran to its end, which an attempt that failed or was cut off never moves.
 */
import { useApp, useEhr } from '../app/app-context';
import { isOnline } from '../state/sync-slice';
import { shortDateTime } from '../chart/fhir-text';
import { syncNow } from '../actions/sync-actions';
import { Reconnect } from './Reconnect';

export function StatusBar() {
  const ctx = useApp();
  const sync = useEhr((s) => s.sync);
  const offlineLogin = useEhr((s) => s.offlineLogin);
  const online = isOnline(sync);
  const last = sync.lastSyncAt ? shortDateTime(new Date(sync.lastSyncAt).toISOString()) : 'never';
  const asOf = sync.dataAsOfAt ? shortDateTime(new Date(sync.dataAsOfAt).toISOString()) : 'not yet synced';
  const pull = sync.pull && sync.pull.total > 0 ? sync.pull : null;
  return (
    <footer className="statusbar" role="contentinfo" aria-label="Sync status" data-testid="statusbar">
      <span data-testid="sync-state"><span className={`dot ${online ? 'online' : 'offline'}`} aria-hidden="true" />{online ? 'Online' : 'Offline'}{sync.state === 'syncing' ? ' · syncing' : ''}{sync.state === 'error' ? ' · sync error' : ''}</span>
      <span data-testid="sync-pending">{sync.pendingMutations} pending</span>
      {sync.conflicts > 0 && (
        <button type="button" className="link" onClick={() => ctx.store.getState().navigate('conflicts')}>{sync.conflicts} conflict{sync.conflicts === 1 ? '' : 's'}</button>
      )}
      <span data-testid="last-sync">Last sync {last}</span>
      {pull && (
        <span data-testid="pull-progress">
          <label htmlFor="pull-bar">Receiving records {pull.done.toLocaleString()} of {pull.total.toLocaleString()}</label>{' '}
          <progress id="pull-bar" max={pull.total} value={Math.min(pull.done, pull.total)} />
        </span>
      )}
      <span data-testid="data-as-of">Data as of {asOf}</span>
      {offlineLogin && <span>Signed in offline</span>}
      {offlineLogin && <Reconnect />}
      {sync.message && <span>{sync.message}</span>}
      <span className="spacer" style={{ flex: 1 }} />
      <button type="button" onClick={() => void syncNow(ctx).catch(() => undefined)}>Sync now</button>
    </footer>
  );
}
