/**
 * Break-glass: emergency access to a patient outside the care team (or restricted). A coded reason,
 * a justification and the password again; main grants access for a limited time and audits it
 * with high severity. Modal: focus moves in on open, Tab stays inside, Escape cancels.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { requestBreakGlass } from '../actions/misc-actions';
import { useAsyncAction } from './useAsyncAction';
import { BREAK_GLASS_REASONS, type BreakGlassReason } from '../../src-shared/policy';

const REASON_LABEL: Record<BreakGlassReason, string> = {
  ETREAT: 'Emergency treatment',
  BTG: 'Break the glass',
  ERTREAT: 'Emergency room treatment',
  CLINTRCH: 'Clinical trial research',
  PATRQT: 'Patient requested',
  TREAT: 'Treatment',
};

/** Escape closes; Tab and Shift+Tab wrap inside the dialog (the modal dialogs share it). */
export function trapTab(e: KeyboardEvent<HTMLDivElement>, onEscape: () => void) {
  if (e.key === 'Escape') return onEscape();
  if (e.key !== 'Tab') return;
  const focusable = e.currentTarget.querySelectorAll<HTMLElement>('input, select, textarea, button:not([disabled])');
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  const wrapTo = e.shiftKey ? (document.activeElement === first ? last : null) : (document.activeElement === last ? first : null);
  if (wrapTo) {
    e.preventDefault();
    wrapTo.focus();
  }
}

export function BreakGlassDialog() {
  const ctx = useApp();
  const patientId = useEhr((s) => s.breakGlassFor);
  const [reason, setReason] = useState<BreakGlassReason>('ETREAT');
  const [justification, setJustification] = useState('');
  const [password, setPassword] = useState('');
  const [typedId, setTypedId] = useState('');
  const first = useRef<HTMLSelectElement>(null);
  const doRequest = useCallback(
    (id: string, r: BreakGlassReason, j: string, p: string) => requestBreakGlass(ctx, id, r, j, p),
    [ctx],
  );
  const { run, busy, error } = useAsyncAction(doRequest);

  useEffect(() => {
    if (patientId === null) return;
    const before = document.activeElement as HTMLElement | null;
    first.current?.focus();
    return () => before?.focus?.();
  }, [patientId]);

  if (patientId === null) return null;
  const askId = patientId === '';
  const close = () => {
    setPassword('');
    ctx.store.getState().closeBreakGlass();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(askId ? typedId.trim() : patientId, reason, justification, password).then((ok) => {
      setPassword('');
      if (ok) setJustification('');
    });
  };

  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="bg-title" onKeyDown={(e) => trapTab(e, close)}>
        <form onSubmit={submit}>
          <h2 id="bg-title">Emergency access (break-glass)</h2>
          <p>{askId ? 'For a patient who is not on this workstation because they are outside your care team.' : 'This patient is outside your care team or restricted.'} Access is granted for a limited time, recorded, and reviewed by the privacy officer.</p>
          {error && <p className="form-error" role="alert">{error}</p>}
          {askId && (
            <div className="field">
              <label htmlFor="bg-patient">Patient id <span className="hint">(from the referral or the wristband)</span></label>
              <input id="bg-patient" autoComplete="off" value={typedId} onChange={(e) => setTypedId(e.target.value)} required />
            </div>
          )}
          <div className="field">
            <label htmlFor="bg-reason">Reason</label>
            <select id="bg-reason" ref={first} value={reason} onChange={(e) => setReason(e.target.value as BreakGlassReason)}>
              {BREAK_GLASS_REASONS.map((r) => <option key={r} value={r}>{REASON_LABEL[r]} ({r})</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="bg-justification">Justification</label>
            <textarea id="bg-justification" style={{ minHeight: 80 }} value={justification} onChange={(e) => setJustification(e.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor="bg-password">Your password</label>
            <input id="bg-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </div>
          <div className="row">
            <button type="submit" className="danger" disabled={busy}>Open with emergency access</button>
            <button type="button" onClick={close}>Cancel</button>
          </div>
        </form>
      </div>
    </div>
  );
}
