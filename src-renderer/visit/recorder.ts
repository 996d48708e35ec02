/**
 * Recording a visit (with the patient's recorded consent and IT policy visitRecording): the
 * patient's video plus a mix of both voices, as video/webm in 1 s slices. Each slice goes to main
 * as base64 (recordings.chunk, increasing seq), where it is sealed with the patient's data key
 * before it touches disk or network; nothing is kept in the renderer after it was sent.
 */
import type { EhrClient } from '../client/ehr-client';
import { VISIT_LIMITS } from '../../src-shared/sync/visits';

const TIMESLICE_MS = 1000;

/** The first of these the browser can record (the channel accepts only video/webm). */
export function pickMimeType(isSupported: (t: string) => boolean = (t) => MediaRecorder.isTypeSupported(t)): string {
  for (const t of ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm']) if (isSupported(t)) return t;
  return 'video/webm';
}

/** A blob's bytes in pieces no larger than the channel's chunk limit. */
export function splitBytes(bytes: Uint8Array, max: number = VISIT_LIMITS.chunkBytes): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += max) out.push(bytes.subarray(i, Math.min(bytes.length, i + max)));
  return out;
}

/** Standard base64 (what the channel takes), in slices so a large chunk does not blow the call stack. */
export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export interface VisitRecording {
  recordingId: string;
  /** Stops the recorder, sends what is left, then recordings.finish. */
  stop(): Promise<void>;
}

export async function startRecording(o: {
  client: EhrClient;
  visitId: string;
  remote: MediaStream;
  local: MediaStream;
  onError(message: string): void;
}): Promise<VisitRecording> {
  const mimeType = pickMimeType();
  const view = await o.client.call('recordings.start', { visitId: o.visitId, mimeType: mimeType.replace(/\s/g, '') });
  const recordingId = view.recordingId;

  // Both voices in one track: MediaRecorder records one audio track only.
  const audio = new AudioContext();
  const mix = audio.createMediaStreamDestination();
  for (const s of [o.remote, o.local]) {
    if (s.getAudioTracks().length > 0) audio.createMediaStreamSource(new MediaStream(s.getAudioTracks())).connect(mix);
  }
  const stream = new MediaStream([...o.remote.getVideoTracks(), ...mix.stream.getAudioTracks()]);
  const recorder = new MediaRecorder(stream, { mimeType });

  let seq = 0;
  let failed = false;
  // One send at a time, in order: seq must increase with the bytes' position in the file.
  let queue: Promise<void> = Promise.resolve();
  recorder.ondataavailable = (e) => {
    if (e.data.size === 0 || failed) return;
    const blob = e.data;
    queue = queue.then(async () => {
      if (failed) return;
      try {
        const bytes = new Uint8Array(await blob.arrayBuffer());
        for (const piece of splitBytes(bytes)) {
          await o.client.call('recordings.chunk', { recordingId, seq, data: toBase64(piece) });
          seq++;
        }
      } catch {
        failed = true;
        o.onError('A part of the recording could not be stored; the recording stopped.');
        if (recorder.state !== 'inactive') recorder.stop();
      }
    });
  };
  const stopped = new Promise<void>((resolve) => { recorder.onstop = () => resolve(); });
  recorder.start(TIMESLICE_MS);

  return {
    recordingId,
    async stop() {
      if (recorder.state !== 'inactive') recorder.stop();
      await stopped;
      await queue;
      await audio.close().catch(() => undefined);
      if (!failed && seq > 0) await o.client.call('recordings.finish', { recordingId });
    },
  };
}
