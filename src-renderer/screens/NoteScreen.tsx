/**
 * Write and sign a progress note (physician), or amend one already signed (nav `recordId` set).
 * The text autosaves as an encrypted draft in the vault a moment after each pause in typing; after
 * a lock the draft comes back from there. An amendment's draft also keeps the version it amends,
 * so saving it later still detects a change made elsewhere (CONFLICT) instead of overwriting it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApp, useEhr } from '../app/app-context';
import {
  chartRecord, correctionMessage, loadAmendDraft, loadNoteDraft, saveAmendDraft, saveAmendment, saveNoteDraft, signNote, startAmendment,
} from '../actions/record-actions';
import { reloadChart } from '../actions/patient-actions';
import { registerBeforeLock } from '../actions/before-lock';
import { PatientScreenFrame } from '../components/PatientScreenFrame';
import { messageOf } from '../components/useAsyncAction';
import { errorCode } from '../client/ehr-client';
import { documentText, isDocumentReference } from '../chart/corrections';

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
        <button type="button" onClick={() => void save().then(() => ctx.store.getState().navigate('chart'))}>Back to chart (draft is kept)</button>
      </div>
    </div>
  );
}

/** What an amendment amends: the note's version and text when the clinician started. */
interface Base { version: number; text: string }

/**
 * Amend a signed note: pre-filled with its text (or the draft of an amendment in progress), saved
 * as an update on the version it started from. A refusal keeps the text on screen and in the draft.
 */
function AmendEditor({ patientId, recordId }: { patientId: string; recordId: string }) {
  const ctx = useApp();
  const text = useEhr((s) => s.amendText);
  const [state, setState] = useState<DraftState>('loading');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState(false);
  /** The note as it is now, after a conflict: shown beside the clinician's text, never merged silently. */
  const [current, setCurrent] = useState<{ text: string; version: number } | null>(null);
  /** What this amendment amends: version and text (a ref too: the autosave and before-lock read it). */
  const [base, setBase] = useState<Base | null>(null);
  const baseRef = useRef<Base | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const unsaved = useRef<string | null>(null);

  const setBaseVersion = (v: Base) => {
    baseRef.current = v;
    setBase(v);
  };

  useEffect(() => {
    let live = true;
    (async () => {
      const draft = await loadAmendDraft(ctx, patientId, recordId);
      if (!live) return;
      if (draft) return setBaseVersion({ version: draft.baseVersion, text: draft.baseText });
      const start = await startAmendment(ctx, patientId, recordId);
      if (live && start) setBaseVersion(start);
    })().then(
      () => live && setState('idle'),
      (e) => live && (setState('error'), setError(correctionMessage(e))),
    );
    return () => {
      live = false;
    };
  }, [ctx, patientId, recordId]);

  const save = useCallback(async () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    const value = unsaved.current;
    const b = baseRef.current;
    if (value === null || b === null) return;
    unsaved.current = null;
    setState('saving');
    try {
      await saveAmendDraft(ctx, patientId, recordId, { baseVersion: b.version, baseText: b.text, text: value });
      setState('saved');
    } catch (e) {
      unsaved.current ??= value;
      setState('error');
      setError(messageOf(e));
    }
  }, [ctx, patientId, recordId]);
  useEffect(() => registerBeforeLock(save), [save]);
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);

  const onChange = (value: string) => {
    const s = ctx.store.getState();
    s.putPhi(s.phiEpoch, { amendText: value });
    setState('dirty');
    unsaved.current = value;
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => void save(), AUTOSAVE_MS);
  };

  const submit = async () => {
    if (base === null) return;
    if (!text.trim()) return setError('The note is empty.');
    if (timer.current) clearTimeout(timer.current);
    setBusy(true);
    setError(null);
    try {
      await saveAmendment(ctx, patientId, recordId, { baseVersion: base.version, baseText: base.text, text });
      unsaved.current = null;
      ctx.store.getState().setNotice('Note amended. The earlier version is kept in the record history.');
      ctx.store.getState().navigate('chart');
    } catch (e) {
      setError(correctionMessage(e));
      setConflict(errorCode(e) === 'CONFLICT');
      // Keep what was typed: make sure the draft holds it (unless main refuses drafts too, e.g. locked).
      unsaved.current = text;
      await save();
    } finally {
      setBusy(false);
    }
  };

  /** After a conflict: load the note as it is now, show it, and base the amendment on it. The typed text stays. */
  const compare = async () => {
    try {
      await reloadChart(ctx);
      const rec = chartRecord(ctx, recordId);
      if (!rec || !isDocumentReference(rec.resource)) return setError('This note is no longer in the chart. Your text is kept in the draft.');
      const now = documentText(rec.resource);
      setCurrent({ text: now, version: rec.version });
      setBaseVersion({ version: rec.version, text: now });
      setConflict(false);
      setError(null);
      unsaved.current = ctx.store.getState().amendText;
      await save();
    } catch (e) {
      setError(correctionMessage(e));
    }
  };

  return (
    <div className="card">
      {error && <p className="form-error" role="alert" data-testid="amend-error">{error}</p>}
      {conflict && (
        <p><button type="button" onClick={() => void compare()}>Compare with the current version</button></p>
      )}
      {current && (
        <section aria-labelledby="amend-current-title">
          <h2 id="amend-current-title">The note as it is now (changed elsewhere)</h2>
          <p className="hint">Your amendment below is now based on this version. Check it, then save again.</p>
          <pre className="amend-compare" data-testid="amend-current">{current.text}</pre>
        </section>
      )}
      <div className="field">
        <label htmlFor="amend-text">Amended note <span className="hint" role="status" data-testid="draft-state">{DRAFT_LABEL[state]}</span></label>
        <textarea id="amend-text" value={text} onChange={(e) => onChange(e.target.value)} disabled={state === 'loading' || base === null} autoFocus />
      </div>
      <div className="row">
        <button className="primary" type="button" onClick={() => void submit()} disabled={busy || base === null}>Save amendment</button>
        <button type="button" onClick={() => void save().then(() => ctx.store.getState().navigate('chart'))}>Back to chart (amendment draft is kept)</button>
      </div>
    </div>
  );
}

export function NoteScreen() {
  const recordId = useEhr((s) => s.recordId);
  return (
    <PatientScreenFrame title={recordId ? 'Amend progress note' : 'Progress note'}>
      {(_m, patientId) => (recordId ? <AmendEditor key={recordId} patientId={patientId} recordId={recordId} /> : <NoteEditor patientId={patientId} />)}
    </PatientScreenFrame>
  );
}
