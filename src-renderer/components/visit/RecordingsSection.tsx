/**
 * The chart's "Recordings" section: a patient's visit recordings (metadata opened in main), Play
 * (decrypted pages from main → one Blob → an object URL for a <video>, revoked when closed or
 * unmounted, e.g. by the lock) and Delete with a reason. Held in component state only: the lock
 * unmounts it, and with it every byte.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useApp } from '../../app/app-context';
import { useAsyncAction } from '../useAsyncAction';
import { shortDateTime } from '../../chart/fhir-text';
import type { RecordingView } from '../../../src-shared/api/types';
import { VISIT_LIMITS } from '../../../src-shared/sync/visits';

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function duration(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

function Player({ recording, onClose }: { recording: RecordingView; onClose: () => void }) {
  const { client } = useApp();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    let made: string | null = null;
    void (async () => {
      const parts: Uint8Array<ArrayBuffer>[] = [];
      let from = 0;
      let mime = recording.mimeType ?? 'video/webm';
      for (;;) {
        const page = await client.call('recordings.read', { recordingId: recording.recordingId, from, limit: 4, purpose: 'view' });
        if (cancelled) return;
        mime = page.mimeType || mime;
        for (const c of page.chunks) parts.push(fromBase64(c.data));
        if (page.done || page.chunks.length === 0) break;
        from = page.chunks[page.chunks.length - 1]!.seq + 1;
      }
      made = URL.createObjectURL(new Blob(parts, { type: mime }));
      setUrl(made);
    })().catch(() => { if (!cancelled) setError('The recording could not be opened.'); });
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client, recording]);
  return (
    <div className="recording-player" data-testid="recording-player">
      {error && <p role="alert">{error}</p>}
      {!url && !error && <p role="status">Opening the recording…</p>}
      {url && <video src={url} controls aria-label="Visit recording" data-testid="recording-video" className="visit-video" />}
      <button type="button" onClick={onClose}>Close recording</button>
    </div>
  );
}

function DeleteForm({ recording, onDone, onCancel }: { recording: RecordingView; onDone: () => void; onCancel: () => void }) {
  const { client } = useApp();
  const [reason, setReason] = useState('');
  const { run, busy, error } = useAsyncAction(async () => {
    await client.call('recordings.delete', { recordingId: recording.recordingId, reason });
    onDone();
  });
  const id = `delete-reason-${recording.recordingId}`;
  const submit = (e: FormEvent) => { e.preventDefault(); void run(); };
  return (
    <form onSubmit={submit} aria-label="Delete recording">
      <div className="field">
        <label htmlFor={id}>Reason for deleting</label>
        <textarea id={id} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={VISIT_LIMITS.reasonChars} required />
      </div>
      {error && <p role="alert">{error}</p>}
      <div className="row">
        <button type="submit" className="danger" disabled={busy || reason.trim() === ''}>Delete recording</button>
        <button type="button" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

export function RecordingsSection({ patientId, canDelete }: { patientId: string; canDelete: boolean }) {
  const { client } = useApp();
  const [rows, setRows] = useState<RecordingView[] | null>(null);
  const [playing, setPlaying] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const load = useCallback(async () => setRows(await client.call('recordings.list', { patientId })), [client, patientId]);
  const { run, error } = useAsyncAction(load);
  useEffect(() => { void run(); }, [run]);
  const shown = (rows ?? []).filter((r) => r.status !== 'deleted');
  return (
    <section className="card span-all" aria-labelledby="sec-recordings" data-testid="recordings">
      <h2 id="sec-recordings" className="section-title">Recordings</h2>
      <button type="button" className="link no-print" onClick={() => void run()}>Refresh recordings</button>
      {error && <p role="alert">Recordings could not be listed: {error}</p>}
      {rows && shown.length === 0 && <p className="empty">No recordings.</p>}
      {shown.length > 0 && (
        <ul>
          {shown.map((r) => (
            <li key={r.recordingId} data-testid="recording">
              {r.title ?? 'Video visit'} · {shortDateTime(new Date(r.createdAt).toISOString())} {duration(r.durationMs)}{' '}
              {r.status === 'recording' && <span className="badge">still recording</span>}{' '}
              {r.status === 'complete' && (
                <button type="button" onClick={() => setPlaying(playing === r.recordingId ? null : r.recordingId)} aria-expanded={playing === r.recordingId}
                  data-testid="play-recording">Play</button>
              )}{' '}
              {canDelete && <button type="button" onClick={() => setDeleting(r.recordingId)}>Delete</button>}
              {playing === r.recordingId && <Player recording={r} onClose={() => setPlaying(null)} />}
              {deleting === r.recordingId && (
                <DeleteForm recording={r} onCancel={() => setDeleting(null)} onDone={() => { setDeleting(null); if (playing === r.recordingId) setPlaying(null); void run(); }} />
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
