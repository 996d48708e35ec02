/**
 * The visit panel on a chart: both videos, the patient link, the recording consent, Record/Stop and
 * End visit. It only shows the call service's state (visit/call.ts): unmounting it (navigation,
 * lock) never touches the call.
 */
import { useEffect, useState } from 'react';
import { useApp, useEhr } from '../../app/app-context';
import { callService, type CallMedia } from '../../visit/call';
import { useAsyncAction } from '../useAsyncAction';
import { StreamVideo } from './StreamVideo';
import { shortDateTime } from '../../chart/fhir-text';

const STATUS_TEXT: Record<string, string> = {
  starting: 'Opening the camera and microphone…',
  waiting: 'Waiting for the patient to open the link.',
  connecting: 'The patient joined; connecting…',
  connected: 'Connected, end-to-end encrypted.',
  ended: 'The visit has ended.',
};

function useCallMedia(): CallMedia {
  const call = callService(useApp());
  const [media, setMedia] = useState<CallMedia>(() => call.media());
  useEffect(() => {
    setMedia(call.media());
    return call.subscribe(setMedia);
  }, [call]);
  return media;
}

export function StartVisitButton({ patientId }: { patientId: string }) {
  const ctx = useApp();
  const { run, busy, error } = useAsyncAction(() => callService(ctx).start(patientId));
  return (
    <>
      <button type="button" onClick={() => void run()} disabled={busy} data-testid="start-visit">{busy ? 'Starting video visit…' : 'Start video visit'}</button>
      {error && <p role="alert">The video visit could not start: {error}</p>}
    </>
  );
}

export function VisitPanel() {
  const ctx = useApp();
  const call = callService(ctx);
  const visit = useEhr((s) => s.visit);
  const recordingPolicy = useEhr((s) => s.visitRecording);
  const media = useCallMedia();
  const [link, setLink] = useState<{ expiresAt: number; copied: boolean } | null>(null);
  const [recError, setRecError] = useState<string | null>(null);
  const copy = useAsyncAction(async () => {
    const l = await call.link();
    let copied = true;
    try { await navigator.clipboard.writeText(l.url); } catch { copied = false; }
    setLink({ expiresAt: l.expiresAt, copied });
  });
  const consent = useAsyncAction((answer: boolean) => call.recordConsent(answer));
  const record = useAsyncAction(() => call.startRecording(setRecError));
  const stopRec = useAsyncAction(() => call.stopRecording());
  if (!visit) return null;
  const ended = visit.status === 'ended';

  return (
    <section className="card span-all visit-panel" aria-labelledby="sec-video-visit" data-testid="visit-panel">
      <h2 id="sec-video-visit" className="section-title">Video visit</h2>
      <p role="status" data-testid="visit-status">{ended ? visit.endedReason ?? STATUS_TEXT['ended'] : STATUS_TEXT[visit.status]}</p>
      {!ended && (
        <>
          <div className="visit-videos">
            <StreamVideo stream={media.remote} label="Patient video" testId="remote-video" />
            <StreamVideo stream={media.local} label="Your camera" mirrored testId="local-video" />
          </div>
          <div className="row">
            <button type="button" onClick={() => void copy.run()} disabled={copy.busy} data-testid="copy-link">Copy patient link</button>
            {link && (
              <p className="hint" role="status" data-testid="link-status">
                {link.copied ? 'Link copied.' : 'The link could not be copied.'} Give it to the patient only; it works once, until {shortDateTime(new Date(link.expiresAt).toISOString())}.
              </p>
            )}
          </div>
          {copy.error && <p role="alert">{copy.error}</p>}
          <fieldset className="visit-consent">
            <legend>Does the patient agree to this visit being recorded?</legend>
            {visit.patientPageConsent !== null && (
              <p data-testid="patient-page-consent">The patient answered on their page: {visit.patientPageConsent ? 'yes' : 'no'}.</p>
            )}
            <div className="row">
              <button type="button" aria-pressed={visit.recordingConsent === true} onClick={() => void consent.run(true)} disabled={consent.busy} data-testid="consent-yes">Yes</button>
              <button type="button" aria-pressed={visit.recordingConsent === false} onClick={() => void consent.run(false)} disabled={consent.busy} data-testid="consent-no">No</button>
            </div>
            <p className="hint">{visit.recordingConsent === null ? 'Not asked yet.' : visit.recordingConsent ? 'Recorded: the patient agreed (verbal).' : 'Recorded: the patient declined.'}</p>
            {consent.error && <p role="alert">{consent.error}</p>}
          </fieldset>
          <div className="row">
            {visit.recordingAllowed && recordingPolicy && visit.status === 'connected' && (
              visit.recordingId
                ? <button type="button" onClick={() => void stopRec.run()} disabled={stopRec.busy} data-testid="stop-recording">Stop recording</button>
                : <button type="button" onClick={() => { setRecError(null); void record.run(); }} disabled={record.busy} data-testid="record">Record</button>
            )}
            {visit.recordingId && <span className="badge danger" role="status">Recording</span>}
            <button type="button" className="danger" onClick={() => call.hangUp('You ended the visit.')} data-testid="end-visit">End visit</button>
          </div>
          {(record.error || stopRec.error || recError) && <p role="alert">{record.error ?? stopRec.error ?? recError}</p>}
        </>
      )}
      {ended && <button type="button" onClick={() => call.dismiss()}>Close</button>}
    </section>
  );
}
