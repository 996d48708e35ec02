/**
 * Confirm "entered in error" for one vital-sign reading, with a coded reason. Modal like the
 * break-glass dialog: focus moves in on open, Tab stays inside, Escape cancels, focus goes back.
 * A refusal (role, conflict, lock) stays in the dialog as a PHI-free message; nothing is lost.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useApp } from '../app/app-context';
import { correctionMessage, markEnteredInError } from '../actions/record-actions';
import { ENTERED_IN_ERROR_REASONS, type EnteredInErrorReason } from '../chart/corrections';
import { shortDateTime } from '../chart/fhir-text';
import type { VitalReading } from '../chart/chart-model';
import { trapTab } from './BreakGlassDialog';

export function EnteredInErrorDialog({ reading, patientId, onClose, onDone }: {
  reading: VitalReading;
  patientId: string;
  onClose: () => void;
  /** After a successful save (the reading's button is gone: the caller decides where focus goes). */
  onDone: () => void;
}) {
  const ctx = useApp();
  const [reason, setReason] = useState<EnteredInErrorReason | ''>('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    first.current?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason) {
      setError('Choose a reason.');
      first.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await markEnteredInError(ctx, patientId, reading.id, reason);
      onDone();
    } catch (err) {
      setError(correctionMessage(err, 'reading'));
      setBusy(false);
    }
  };

  const what = `${reading.vital.label} ${reading.value} ${reading.vital.unit}, ${shortDateTime(reading.at)}`;
  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="eie-title" aria-describedby="eie-what" onKeyDown={(e) => trapTab(e, onClose)}>
        <form onSubmit={(e) => void submit(e)} noValidate>
          <h2 id="eie-title">Mark entered in error?</h2>
          <p id="eie-what">
            <strong>{what}</strong>. The reading stays in the record, struck through and labelled, and leaves the
            trends. It is not deleted.
          </p>
          {error && <p className="form-error" role="alert">{error}</p>}
          <div className="field">
            <label htmlFor="eie-reason">Reason</label>
            <select id="eie-reason" ref={first} value={reason} required aria-invalid={error === 'Choose a reason.' ? true : undefined}
              onChange={(e) => setReason(e.target.value as EnteredInErrorReason | '')}>
              <option value="">Choose a reason…</option>
              {ENTERED_IN_ERROR_REASONS.map((r) => <option key={r.code} value={r.code}>{r.display}</option>)}
            </select>
          </div>
          <div className="row">
            <button type="submit" className="danger" disabled={busy}>Mark entered in error</button>
            <button type="button" onClick={onClose}>Cancel</button>
          </div>
        </form>
      </div>
    </div>
  );
}
