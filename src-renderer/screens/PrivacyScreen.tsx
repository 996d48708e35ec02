/**
 * The privacy officer's console: the clinic-wide review queue from the sync server (break-glass
 * online and offline, alerts of every kind, refused justifications). Opening an item shows its
 * reason, justification, duration and every record its user read during the grant; the review ends
 * with a disposition and a note (appended on the server, never edited). Accounts can be suspended
 * or reinstated from an item, and an item's trail exported as FHIR AuditEvents. Below the queue,
 * the recording access log: who recorded, viewed, downloaded or deleted which visit recording, when.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { closeEpisode, disposeItem, exportEpisode, loadRecordingAccess, loadReviewQueue, openEpisode, setAccountStatus } from '../actions/privacy-actions';
import { messageOf } from '../components/useAsyncAction';
import { shortDateTime } from '../chart/fhir-text';
import type { Disposition, RecordingAccess, ReviewItem } from '../../src-shared/api/types';

const DISPOSITIONS: Array<{ value: Disposition; label: string }> = [
  { value: 'appropriate', label: 'Appropriate' },
  { value: 'inappropriate', label: 'Inappropriate' },
  { value: 'follow-up', label: 'Follow-up needed' },
];

const SUBJECT_TEXT: Record<ReviewItem['subject'], string> = {
  'break-glass': 'Break-glass',
  'offline-break-glass': 'Break-glass (offline)',
  alert: 'Alert',
  'refused-justification': 'Refused justification',
};

const when = (iso: string | null): string => (iso ? shortDateTime(iso) : '—');
const kindOf = (i: ReviewItem): string => (i.subject === 'alert' ? `Alert: ${i.alertKind ?? 'unknown'}` : SUBJECT_TEXT[i.subject]);
const decision = (i: ReviewItem): string => i.dispositions.at(-1)?.disposition ?? 'open';

function Detail({ item, onError }: { item: ReviewItem; onError: (m: string | null) => void }) {
  const ctx = useApp();
  const reads = useEhr((s) => s.reviewEpisode?.reads ?? []);
  const [disposition, setDisposition] = useState<Disposition>('appropriate');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    onError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      onError(messageOf(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void act(() => disposeItem(ctx, item, disposition, note)).then((ok) => ok && setNote(''));
  };
  const doExport = () =>
    void act(async () => {
      const bundle = await exportEpisode(ctx, item);
      setExported(`Exported ${bundle.entry.length} FHIR AuditEvent${bundle.entry.length === 1 ? '' : 's'}`);
      // A file the officer saves (the renderer holds no path; the browser's download does it).
      const url = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `audit-${item.subject}-${item.id}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });

  return (
    <section className="card" aria-labelledby="episode-title" data-testid="review-episode">
      <h2 id="episode-title">{kindOf(item)} — {item.userId ?? 'unknown user'}{item.patientId ? ` · patient ${item.patientId}` : ''}</h2>
      <dl>
        <dt>Raised</dt><dd>{when(item.raisedAt)}</dd>
        {item.reason && (<><dt>Reason</dt><dd>{item.reason}</dd></>)}
        {(item.subject === 'break-glass' || item.subject === 'offline-break-glass') && (
          <><dt>Justification</dt><dd data-testid="review-justification">{item.justification ?? 'not received yet'}</dd></>
        )}
        {item.startsAt && (<><dt>Access</dt><dd>{when(item.startsAt)} to {when(item.endsAt)}{item.durationMinutes !== null ? ` (${item.durationMinutes} min)` : ''}</dd></>)}
        {item.userStatus && (<><dt>Account</dt><dd data-testid="review-account">{item.userStatus}</dd></>)}
        {Object.keys(item.detail).length > 0 && (<><dt>Detail</dt><dd className="mono">{Object.entries(item.detail).map(([k, v]) => `${k}: ${String(v)}`).join(' · ')}</dd></>)}
      </dl>
      <h3>Records read {item.startsAt ? 'during the access' : 'in the hour before'}</h3>
      <table aria-label="Records read">
        <thead><tr><th scope="col">When</th><th scope="col">Type</th><th scope="col">Where</th><th scope="col">Records</th></tr></thead>
        <tbody>
          {reads.map((r, n) => (
            <tr key={n}><td>{when(r.at)}</td><td>{r.type}</td><td className="mono">{r.deviceId ?? r.source}</td><td className="mono">{r.resourceRefs.join(' ') || '—'}</td></tr>
          ))}
        </tbody>
      </table>
      {reads.length === 0 && <p className="empty">No reads recorded.</p>}
      <h3>Reviews</h3>
      <ul data-testid="review-history">
        {item.dispositions.map((d, n) => (
          <li key={n}><strong>{d.disposition}</strong> by {d.reviewerId}, {when(d.at)}: {d.note}</li>
        ))}
        {item.dispositions.length === 0 && <li>Not reviewed yet.</li>}
      </ul>
      <form onSubmit={submit} aria-label="Disposition">
        <fieldset>
          <legend>Disposition</legend>
          {DISPOSITIONS.map((d) => (
            <label key={d.value} style={{ display: 'inline-flex', gap: 'var(--space-2)', marginRight: 'var(--space-4)', fontWeight: 'normal' }}>
              <input type="radio" name="disposition" value={d.value} checked={disposition === d.value} onChange={() => setDisposition(d.value)} /> {d.label}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="review-note">Note</label>
          <textarea id="review-note" value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} required />
        </div>
        <div className="row">
          <button className="primary" type="submit" disabled={busy || note.trim() === ''}>Record disposition</button>
          {item.userId && item.userStatus !== 'suspended' && (
            <button type="button" disabled={busy || note.trim() === ''} onClick={() => void act(() => setAccountStatus(ctx, item.userId!, 'suspend', note))}>Suspend account</button>
          )}
          {item.userId && item.userStatus === 'suspended' && (
            <button type="button" disabled={busy || note.trim() === ''} onClick={() => void act(() => setAccountStatus(ctx, item.userId!, 'reinstate', note))}>Reinstate account</button>
          )}
          <button type="button" disabled={busy} onClick={doExport}>Export FHIR AuditEvent</button>
          <button type="button" onClick={() => closeEpisode(ctx)}>Close</button>
        </div>
        {exported && <p role="status">{exported}</p>}
      </form>
    </section>
  );
}

const ACCESS_TEXT: Record<RecordingAccess['action'], string> = {
  record: 'Recorded',
  view: 'Viewed',
  download: 'Downloaded',
  delete: 'Deleted',
  purge: 'Purged (retention)',
};

/**
 * Who recorded, viewed, downloaded or deleted visit recordings, and when: the server's append-only
 * log, for one patient id or clinic-wide. Loaded on request (it is a clinic-wide list of patient ids).
 */
function RecordingAccessLog({ onError }: { onError: (m: string | null) => void }) {
  const ctx = useApp();
  const rows = useEhr((s) => s.recordingAccess);
  const [patientId, setPatientId] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onError(null);
    const id = patientId.trim() || null;
    void loadRecordingAccess(ctx, id).then(() => setShown(id ? `patient ${id}` : 'all patients'), (err: unknown) => onError(messageOf(err)));
  };
  return (
    <section aria-labelledby="recording-access-title" className="card" style={{ marginTop: 'var(--space-5)' }}>
      <h2 id="recording-access-title">Recording access</h2>
      <form onSubmit={submit} className="row" aria-label="Recording access filter">
        <div className="field">
          <label htmlFor="recording-access-patient">Patient id (empty: all)</label>
          <input id="recording-access-patient" value={patientId} onChange={(e) => setPatientId(e.target.value)} maxLength={64} autoComplete="off" />
        </div>
        <button type="submit">Show recording access</button>
      </form>
      {shown !== null && (
        rows.length === 0
          ? <p className="empty">No recording access for {shown}.</p>
          : (
            <table aria-label="Recording access log" data-testid="recording-access">
              <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">User</th><th scope="col">Recording</th><th scope="col">Patient id</th><th scope="col">Device</th></tr></thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={`${r.recordingId}-${r.at}-${i}`}>
                    <td>{shortDateTime(r.at)}</td><td>{ACCESS_TEXT[r.action]}</td><td className="mono">{r.userId}</td>
                    <td className="mono">{r.recordingId}</td><td className="mono">{r.patientId}</td><td className="mono">{r.deviceId ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
      )}
    </section>
  );
}

export function PrivacyScreen() {
  const ctx = useApp();
  const items = useEhr((s) => s.reviewQueue);
  const episode = useEhr((s) => s.reviewEpisode);
  const [openOnly, setOpenOnly] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => loadReviewQueue(ctx, openOnly).catch((e) => setError(messageOf(e))), [ctx, openOnly]);
  useEffect(() => void load(), [load]);
  const current = episode ? (items.find((i) => i.subject === episode.item.subject && i.id === episode.item.id) ?? episode.item) : null;

  return (
    <section aria-labelledby="privacy-title">
      <h1 id="privacy-title">Privacy review (clinic-wide)</h1>
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="row" style={{ marginBottom: 'var(--space-4)' }}>
        <label style={{ display: 'inline-flex', gap: 'var(--space-2)', fontWeight: 'normal' }}>
          <input type="checkbox" checked={openOnly} onChange={(e) => setOpenOnly(e.target.checked)} /> Open items only
        </label>
        <button type="button" onClick={() => void load()}>Refresh</button>
      </div>
      <table aria-label="Review queue" data-testid="review-queue">
        <thead><tr><th scope="col">Raised</th><th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">User</th><th scope="col">Patient id</th><th scope="col">Reason</th><th scope="col">Duration</th><th scope="col">Review</th><th scope="col"><span className="visually-hidden">Open</span></th></tr></thead>
        <tbody>
          {items.map((i) => (
            <tr key={`${i.subject}/${i.id}`} data-testid={`review-${i.subject}-${i.id}`}>
              <td>{when(i.raisedAt)}</td><td>{kindOf(i)}</td><td>{i.severity === 'high' ? <span className="badge danger">high</span> : (i.severity ?? '')}</td>
              <td className="mono">{i.userId ?? ''}</td><td className="mono">{i.patientId ?? ''}</td><td>{i.reason ?? ''}</td>
              <td>{i.durationMinutes !== null ? `${i.durationMinutes} min` : ''}</td><td>{decision(i)}</td>
              <td><button type="button" onClick={() => void openEpisode(ctx, i.subject, i.id).catch((e) => setError(messageOf(e)))}>Review</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length === 0 && <p className="empty">Nothing to review.</p>}
      {current && <Detail item={current} onError={setError} />}
      <RecordingAccessLog onError={setError} />
    </section>
  );
}
