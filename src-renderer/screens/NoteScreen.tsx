/**
 * Write and sign a progress note (physician). The text autosaves as an encrypted draft in the
 * vault a moment after each pause in typing; after a lock the draft comes back from there.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { loadNoteDraft, saveNoteDraft, signNote } from '../actions/record-actions';
import { registerBeforeLock } from '../actions/before-lock';
import { PatientScreenFrame } from '../components/PatientScreenFrame';
import { messageOf } from '../components/useAsyncAction';

export const AUTOSAVE_MS = 800;

type DraftState = 'loading' | 'idle' | 'dirty' | 'saving' | 'saved' | 'error';
const DRAFT_LABEL: Record<DraftState, string> = {
  loading: 'Loading draft…', idle: '', dirty: 'Unsaved changes', saving: 'Saving draft…', saved: 'Draft saved', error: 'Draft not saved',
};

function NoteEditor({ patientId }: { patientId: string }) {
  const ctx = useApp();
  const text = useEhr((s) => s.noteText);
  const [state, setState] = useState<DraftState>('loading');
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    let live = true;
    loadNoteDraft(ctx, patientId)
      .then(() => live && setState('idle'))
      .catch((e) => live && (setState('error'), setError(messageOf(e))));
    return () => {
      live = false;
    };
  }, [ctx, patientId]);

  // Text typed since the last autosave; saved now if the user locks or signs out before it fires.
  const unsaved = useRef<string | null>(null);
  const save = useCallback(async () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    const value = unsaved.current;
    if (value === null) return;
    unsaved.current = null;
    setState('saving');
    try {
      await saveNoteDraft(ctx, patientId, value);
      setState('saved');
    } catch (e) {
      setState('error');
      setError(messageOf(e));
    }
  }, [ctx, patientId]);
  useEffect(() => registerBeforeLock(save), [save]);
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);

  const onChange = (value: string) => {
    const s = ctx.store.getState();
    s.putPhi(s.phiEpoch, { noteText: value });
    setState('dirty');
    unsaved.current = value;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void save(), AUTOSAVE_MS);
  };

  const sign = async () => {
    if (!text.trim()) return setError('The note is empty.');
    if (timer.current) clearTimeout(timer.current);
    unsaved.current = null;
    try {
      await signNote(ctx, patientId, text, new Date().toISOString());
      ctx.store.getState().navigate('chart');
    } catch (e) {
      setError(messageOf(e));
    }
  };

  return (
    <div className="card">
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="field">
        <label htmlFor="note-text">Progress note <span className="hint" role="status" data-testid="draft-state">{DRAFT_LABEL[state]}</span></label>
        <textarea id="note-text" value={text} onChange={(e) => onChange(e.target.value)} disabled={state === 'loading'} autoFocus />
      </div>
      <div className="row">
        <button className="primary" type="button" onClick={() => void sign()}>Sign note</button>
        <button type="button" onClick={() => ctx.store.getState().navigate('chart')}>Back to chart (draft is kept)</button>
      </div>
    </div>
  );
}

export function NoteScreen() {
  return <PatientScreenFrame title="Progress note">{(_m, patientId) => <NoteEditor patientId={patientId} />}</PatientScreenFrame>;
}
