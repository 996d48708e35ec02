/**
 * The physician's side of a video visit, as a service OUTSIDE the React tree: the inactivity lock
 * unmounts every PHI view (App renders the lock screen instead of the shell), and the call must
 * survive that. The service owns the camera/microphone, the peer connection, the remote audio (an
 * element that is never in the DOM, so audio continues while locked) and the recorder; the store
 * gets ids and states only (visit-slice.ts).
 *
 * Signalling goes through main (visits.signal both ways), and main judges the media transport
 * every 2 s (visits.transport): a refusal, or transportProblem() here, ends the visit.
 */
import type { AppContext } from '../actions/context';
import type { VisitSession } from '../../src-shared/api/types';
import { transportProblem, type SignalMessage, type TransportReport } from '../../src-shared/sync/visits';
import { importMediaKey } from './frame-crypto';
import { toRtcIceServers, VisitPeer, type PeerSignal } from './peer';
import { startRecording, type VisitRecording } from './recorder';

const STATS_EVERY_MS = 2000;
/** After the connection is up, how long the E2EE transforms get to show frames both ways before main judges. */
const FRAMES_GRACE_MS = 10_000;

export interface CallMedia {
  local: MediaStream | null;
  remote: MediaStream | null;
}

type Listener = (media: CallMedia) => void;

export class CallService {
  private session: VisitSession | null = null;
  private key: CryptoKey | null = null;
  private local: MediaStream | null = null;
  private peer: VisitPeer | null = null;
  private remoteAudio: HTMLAudioElement | null = null;
  private recording: VisitRecording | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private connectedAt = 0;
  private listeners = new Set<Listener>();
  private unwire: Array<() => void> = [];
  /** The last transport seen, for tests and the panel's status line. */
  lastTransport: TransportReport | null = null;

  constructor(private readonly ctx: AppContext) {
    this.unwire.push(
      ctx.client.on('visits.signal', ({ visitId, message }) => {
        if (this.session?.visitId === visitId) void this.onSignal(message).catch(() => this.fail('The video connection failed.'));
      }),
      ctx.client.on('visits.ended', ({ visitId, reason }) => {
        if (this.session?.visitId === visitId) this.hangUp(reasonText(reason), false);
      }),
      // Sign-out or a switch of user: the visit was this session's; main ends it, we drop it now.
      ctx.store.subscribe((s, prev) => {
        if (prev.user && (!s.user || s.user.userId !== prev.user.userId) && this.session) this.hangUp('Signed out; the visit ended.', false);
      }),
    );
  }

  get active(): boolean {
    return this.session !== null;
  }

  media(): CallMedia {
    return { local: this.local, remote: this.peer?.remoteStream ?? null };
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** "Start video visit" on a chart. Asks for the camera only now (never before a visit). */
  async start(patientId: string): Promise<void> {
    if (this.session) throw new Error('A video visit is already running on this workstation.');
    const session = await this.ctx.client.call('visits.start', { patientId });
    await this.attach(session);
  }

  /** After a reload: an open visit of this session gets its camera back and waits for the patient's page. */
  async reattach(): Promise<void> {
    if (this.session) return;
    const open = (await this.ctx.client.call('visits.active', {})).find((v) => v.status === 'open');
    if (open) await this.attach(open);
  }

  async link(minutes = 15): Promise<{ url: string; expiresAt: number }> {
    const s = this.requireSession();
    return this.ctx.client.call('visits.link', { visitId: s.visitId, minutes });
  }

  async recordConsent(recording: boolean): Promise<void> {
    const s = this.requireSession();
    const next = await this.ctx.client.call('visits.consent', { visitId: s.visitId, recording, method: 'verbal' });
    this.session = { ...s, recordingConsent: next.recordingConsent, recordingAllowed: next.recordingAllowed };
    this.ctx.store.getState().patchVisit(s.visitId, { recordingConsent: next.recordingConsent, recordingAllowed: next.recordingAllowed });
  }

  async startRecording(onError: (m: string) => void): Promise<void> {
    const s = this.requireSession();
    const remote = this.peer?.remoteStream;
    if (this.recording || !remote || !this.local) return;
    this.recording = await startRecording({ client: this.ctx.client, visitId: s.visitId, remote, local: this.local, onError });
    this.ctx.store.getState().patchVisit(s.visitId, { recordingId: this.recording.recordingId });
  }

  async stopRecording(): Promise<void> {
    const r = this.recording;
    if (!r) return;
    this.recording = null;
    try {
      await r.stop();
    } finally {
      if (this.session) this.ctx.store.getState().patchVisit(this.session.visitId, { recordingId: null });
    }
  }

  /** "End visit", a transport refusal, or main's visits.ended. `tellMain` is false when main already knows. */
  hangUp(reason: string, tellMain = true): void {
    const s = this.session;
    if (!s) return;
    this.session = null;
    this.stopTimer();
    // Whatever was recorded so far is kept and finished (its chunks are already sealed in main).
    const r = this.recording;
    this.recording = null;
    void r?.stop().catch(() => undefined);
    this.peer?.close();
    this.peer = null;
    for (const t of this.local?.getTracks() ?? []) t.stop();
    this.local = null;
    if (this.remoteAudio) {
      this.remoteAudio.pause();
      this.remoteAudio.srcObject = null;
      this.remoteAudio = null;
    }
    this.key = null;
    if (tellMain) void this.ctx.client.call('visits.end', { visitId: s.visitId }).catch(() => undefined);
    this.ctx.store.getState().patchVisit(s.visitId, { status: 'ended', recordingId: null, endedReason: reason });
    this.emit();
  }

  /** The panel's "Close" after a visit ended. */
  dismiss(): void {
    if (!this.session) this.ctx.store.getState().setVisit(null);
  }

  dispose(): void {
    this.hangUp('The visit ended.');
    for (const u of this.unwire) u();
    this.unwire = [];
  }

  private async attach(session: VisitSession): Promise<void> {
    this.session = session;
    this.ctx.store.getState().setVisit({
      visitId: session.visitId,
      patientId: session.patientId,
      status: 'starting',
      recordingConsent: session.recordingConsent,
      recordingAllowed: session.recordingAllowed,
      patientPageConsent: null,
      recordingId: null,
      endedReason: null,
    });
    try {
      this.key = await importMediaKey(session.mediaKey);
      this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    } catch {
      this.hangUp('The camera or microphone could not be opened; the visit ended.');
      throw new Error('The camera or microphone could not be opened.');
    }
    this.ctx.store.getState().patchVisit(session.visitId, { status: 'waiting' });
    this.emit();
  }

  private async onSignal(m: SignalMessage): Promise<void> {
    const s = this.session;
    if (!s) return;
    switch (m.type) {
      case 'peer':
        if (m.present) await this.newPeer(true);
        else this.dropPeer();
        return;
      case 'bye':
        this.dropPeer();
        return;
      case 'ended':
        this.hangUp(reasonText(m.reason), false);
        return;
      case 'consent':
        this.ctx.store.getState().patchVisit(s.visitId, { patientPageConsent: m.recording });
        return;
      case 'offer':
        // The patient page only answers; an offer from it means a page of another kind: ignore.
        return;
      case 'answer':
      case 'ice':
        await this.peer?.receive(m);
        return;
      case 'welcome':
        return;
    }
  }

  /** The patient is there: a fresh connection, and the host offers. */
  private async newPeer(offer: boolean): Promise<void> {
    const s = this.session;
    if (!s || !this.key || !this.local) return;
    this.dropPeer();
    const visitId = s.visitId;
    const peer = new VisitPeer({
      role: 'host',
      key: this.key,
      iceServers: toRtcIceServers(s.iceServers),
      localStream: this.local,
      send: (message: PeerSignal) => void this.ctx.client.call('visits.signal', { visitId, message }).catch(() => undefined),
      onRemoteTrack: (stream) => {
        this.playRemoteAudio(stream);
        this.emit();
      },
      onStateChange: (state) => {
        if (this.peer !== peer) return;
        if (state === 'connected') {
          this.connectedAt = Date.now();
          this.ctx.store.getState().patchVisit(visitId, { status: 'connected' });
          this.startTimer();
        } else if (state === 'failed') {
          this.hangUp('The video connection failed; the visit ended.');
        }
      },
    });
    this.peer = peer;
    this.ctx.store.getState().patchVisit(visitId, { status: 'connecting' });
    this.emit();
    if (offer) await peer.offer();
  }

  private dropPeer(): void {
    if (!this.peer) return;
    this.stopTimer();
    void this.stopRecording().catch(() => undefined);
    this.peer.close();
    this.peer = null;
    if (this.session) this.ctx.store.getState().patchVisit(this.session.visitId, { status: 'waiting' });
    this.emit();
  }

  /** Remote audio plays from an element outside the DOM, so a lock (which unmounts the panel) keeps it. */
  private playRemoteAudio(stream: MediaStream): void {
    if (!this.remoteAudio) this.remoteAudio = new Audio();
    this.remoteAudio.srcObject = new MediaStream(stream.getAudioTracks());
    void this.remoteAudio.play().catch(() => undefined);
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.checkTransport(), STATS_EVERY_MS);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async checkTransport(): Promise<void> {
    const s = this.session;
    const peer = this.peer;
    if (!s || !peer) return;
    const t = await peer.transport();
    this.lastTransport = t;
    const framesBothWays = t.framesSealed > 0 && t.framesOpened > 0;
    // Frames need a moment after DTLS connects; main judges once they flow (or the grace is over).
    if (!framesBothWays && Date.now() - this.connectedAt < FRAMES_GRACE_MS) return;
    try {
      const verdict = await this.ctx.client.call('visits.transport', { visitId: s.visitId, ...t });
      if (!verdict.accepted) {
        this.hangUp(`The connection is not secure enough (${verdict.reason ?? 'refused'}); the visit ended.`, false);
        return;
      }
    } catch {
      if (this.session === s) this.hangUp('The connection could not be confirmed as secure; the visit ended.');
      return;
    }
    const problem = transportProblem(t);
    if (problem && this.session === s) this.hangUp(`The connection is not secure enough (${problem}); the visit ended.`);
  }

  private fail(message: string): void {
    this.hangUp(message);
  }

  private requireSession(): VisitSession {
    if (!this.session) throw new Error('No video visit is running.');
    return this.session;
  }

  private emit(): void {
    const m = this.media();
    for (const l of this.listeners) l(m);
  }
}

function reasonText(reason: string): string {
  switch (reason) {
    case 'signed-out': return 'Signed out; the visit ended.';
    case 'device-revoked': return 'This workstation was revoked; the visit ended.';
    case 'expired': return 'The visit expired.';
    case 'transport-refused': return 'The connection was not secure enough; the visit ended.';
    case 'policy': return 'Video visits were turned off by IT; the visit ended.';
    default: return 'The visit has ended.';
  }
}

const services = new WeakMap<AppContext, CallService>();

/** The one call service of this app context (created, and wired to main's events, on first use). */
export function callService(ctx: AppContext): CallService {
  let s = services.get(ctx);
  if (!s) {
    s = new CallService(ctx);
    services.set(ctx, s);
  }
  return s;
}
