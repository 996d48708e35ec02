/**
 * Record vitals (nurse): one field per sign with its unit; implausible values are refused before
 * saving. All readings are saved in one call; a failed save keeps its submission, so Save again
 * with the same readings retries that request instead of writing a second copy.
 */
import { useRef, useState, type FormEvent } from 'react';
import { useApp } from '../app/app-context';
import { saveVitals, vitalsSubmission, type VitalReading, type VitalsSubmission } from '../actions/record-actions';
import { PatientScreenFrame } from '../components/PatientScreenFrame';
import { messageOf } from '../components/useAsyncAction';
import { VITAL_SIGNS, checkVital } from '../chart/vital-signs';

export function VitalsScreen() {
  const ctx = useApp();
  const [raw, setRaw] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The last submission that did not succeed (null once saved): a retry of the same readings reuses it.
  const unsaved = useRef<VitalsSubmission | null>(null);

  const submit = async (e: FormEvent, patientId: string) => {
    e.preventDefault();
    const nextErrors: Record<string, string> = {};
    const values: VitalReading[] = [];
    for (const v of VITAL_SIGNS) {
      const r = checkVital(v, raw[v.key] ?? '');
      if (r && !r.ok) nextErrors[v.key] = r.message;
      if (r?.ok) values.push({ vital: v, value: r.value });
    }
    setErrors(nextErrors);
    setSaved(null);
    if (Object.keys(nextErrors).length) return setFormError('Check the highlighted values.');
    if (values.length === 0) return setFormError('Enter at least one measurement.');
    setFormError(null);
    setBusy(true);
    const submission = vitalsSubmission(unsaved.current, patientId, values, new Date());
    unsaved.current = submission;
    try {
      const n = await saveVitals(ctx, submission);
      unsaved.current = null;
      setRaw({});
      setSaved(`${n} measurement${n === 1 ? '' : 's'} saved.`);
    } catch (err) {
      setFormError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <PatientScreenFrame title="Record vitals">
      {(_model, patientId) => (
        <form className="card" onSubmit={(e) => void submit(e, patientId)} noValidate>
          {formError && <p className="form-error" role="alert">{formError}</p>}
          {saved && <p role="status" data-testid="vitals-saved">{saved}</p>}
          <div className="grid-2">
            {VITAL_SIGNS.map((v) => (
              <div className="field" key={v.key}>
                <label htmlFor={`vital-${v.key}`}>{v.label} <span className="hint">({v.unit}, {v.min}–{v.max})</span></label>
                <input
                  id={`vital-${v.key}`}
                  inputMode="decimal"
                  autoComplete="off"
                  value={raw[v.key] ?? ''}
                  onChange={(e) => setRaw({ ...raw, [v.key]: e.target.value })}
                  aria-invalid={errors[v.key] ? true : undefined}
                  aria-describedby={errors[v.key] ? `vital-${v.key}-error` : undefined}
                />
                {errors[v.key] && <div className="error" id={`vital-${v.key}-error`}>{errors[v.key]}</div>}
              </div>
            ))}
          </div>
          <div className="row">
            <button className="primary" type="submit" disabled={busy}>Save vitals</button>
            <button type="button" onClick={() => ctx.store.getState().navigate('chart')}>Back to chart</button>
          </div>
        </form>
      )}
    </PatientScreenFrame>
  );
}
