/**
 * One side of a visit's media: an RTCPeerConnection whose every sender and receiver runs the
 * frame-level E2EE transform (frame-crypto.ts), plus the offer/answer/ICE dance. Shared by the
 * physician's call service (signalling through window.ehr) and the patient page (signalling over
 * its WebSocket): the two differ only in how a message travels and who offers.
 *
 * Uses Chromium's encoded insertable streams (`encodedInsertableStreams: true`,
 * `createEncodedStreams()`), the API verified on the browsers this app supports.
 */
import type { SignalMessage, TransportReport } from '../../src-shared/sync/visits';
import { FrameOpener, FrameSealer, newCounters, type Direction, type FrameCounters, type MediaKind } from './frame-crypto';

/** The parts of Chromium's non-standard encoded-streams API we use (not in lib.dom). */
interface EncodedFrame { data: ArrayBuffer }
interface EncodedStreams { readable: ReadableStream<EncodedFrame>; writable: WritableStream<EncodedFrame> }
type WithEncodedStreams = { createEncodedStreams(): EncodedStreams };

export type PeerSignal = Extract<SignalMessage, { type: 'offer' | 'answer' | 'ice' }>;

export interface PeerOptions {
  role: Direction;
  key: CryptoKey;
  iceServers: RTCIceServer[];
  localStream: MediaStream;
  send(message: PeerSignal): void;
  onRemoteTrack(stream: MediaStream): void;
  onStateChange?(state: RTCPeerConnectionState): void;
}

export class VisitPeer {
  readonly counters: FrameCounters = newCounters();
  readonly pc: RTCPeerConnection;
  readonly remoteStream = new MediaStream();
  private pendingIce: RTCIceCandidateInit[] = [];
  private closed = false;

  constructor(private readonly o: PeerOptions) {
    // encodedInsertableStreams must be set at construction, before any sender exists.
    this.pc = new RTCPeerConnection({ iceServers: o.iceServers, encodedInsertableStreams: true } as RTCConfiguration);
    this.pc.onicecandidate = (e) => {
      if (e.candidate && e.candidate.candidate) {
        o.send({ type: 'ice', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
      }
    };
    this.pc.onconnectionstatechange = () => o.onStateChange?.(this.pc.connectionState);
    this.pc.ontrack = (e) => {
      this.openReceiver(e.receiver, e.track.kind as MediaKind);
      this.remoteStream.addTrack(e.track);
      o.onRemoteTrack(this.remoteStream);
    };
    for (const track of o.localStream.getTracks()) {
      const sender = this.pc.addTrack(track, o.localStream);
      this.sealSender(sender, track.kind as MediaKind);
    }
    preferVp8(this.pc);
  }

  /** The host offers once the patient is there (a second offer is an ICE restart-free renegotiation). */
  async offer(): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.o.send({ type: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  async receive(m: PeerSignal): Promise<void> {
    if (this.closed) return;
    if (m.type === 'offer') {
      await this.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      await this.flushIce();
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.o.send({ type: 'answer', sdp: this.pc.localDescription!.sdp });
    } else if (m.type === 'answer') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      await this.flushIce();
    } else {
      const c: RTCIceCandidateInit = { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex };
      // Candidates can outrun the description they belong to: keep them until it is set.
      if (!this.pc.remoteDescription) this.pendingIce.push(c);
      else await this.pc.addIceCandidate(c).catch(() => undefined);
    }
  }

  /** The transport as transportProblem() judges it, from the selected candidate pair's transport. */
  async transport(): Promise<TransportReport> {
    const stats = await this.pc.getStats();
    let t: Record<string, unknown> | null = null;
    stats.forEach((s: Record<string, unknown>) => {
      if (s['type'] === 'transport' && (!t || s['dtlsState'] === 'connected')) t = s;
    });
    const pick = (k: string): string | null => (t && typeof (t as Record<string, unknown>)[k] === 'string' ? ((t as Record<string, unknown>)[k] as string) : null);
    return {
      dtlsState: pick('dtlsState') ?? 'new',
      srtpCipher: pick('srtpCipher'),
      dtlsCipher: pick('dtlsCipher'),
      tlsVersion: pick('tlsVersion'),
      framesSealed: this.counters.framesSealed,
      framesOpened: this.counters.framesOpened,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    for (const t of this.remoteStream.getTracks()) t.stop();
  }

  private async flushIce(): Promise<void> {
    const pending = this.pendingIce;
    this.pendingIce = [];
    for (const c of pending) await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  private sealSender(sender: RTCRtpSender, kind: MediaKind): void {
    const sealer = new FrameSealer(this.o.key, this.o.role, this.counters);
    const { readable, writable } = (sender as unknown as WithEncodedStreams).createEncodedStreams();
    void readable
      .pipeThrough(new TransformStream<EncodedFrame, EncodedFrame>({
        async transform(frame, ctl) {
          frame.data = (await sealer.seal(kind, new Uint8Array(frame.data))).buffer;
          ctl.enqueue(frame);
        },
      }))
      .pipeTo(writable)
      .catch(() => undefined);
  }

  private openReceiver(receiver: RTCRtpReceiver, kind: MediaKind): void {
    const opener = new FrameOpener(this.o.key, this.counters);
    const { readable, writable } = (receiver as unknown as WithEncodedStreams).createEncodedStreams();
    void readable
      .pipeThrough(new TransformStream<EncodedFrame, EncodedFrame>({
        async transform(frame, ctl) {
          const plain = await opener.open(kind, new Uint8Array(frame.data));
          // A frame that does not open is dropped: the decoder asks for a key frame and recovers.
          if (!plain) return;
          frame.data = plain.buffer;
          ctl.enqueue(frame);
        },
      }))
      .pipeTo(writable)
      .catch(() => undefined);
  }
}

/** The clear-header lengths in frame-crypto.ts are VP8's: ask for VP8 on every video transceiver. */
function preferVp8(pc: RTCPeerConnection): void {
  const caps = typeof RTCRtpReceiver.getCapabilities === 'function' ? RTCRtpReceiver.getCapabilities('video') : null;
  if (!caps) return;
  const vp8 = caps.codecs.filter((c) => /vp8|rtx/i.test(c.mimeType));
  if (!vp8.some((c) => /vp8/i.test(c.mimeType))) return;
  for (const t of pc.getTransceivers()) {
    if (t.receiver.track.kind === 'video' && typeof t.setCodecPreferences === 'function') {
      try { t.setCodecPreferences(vp8); } catch { /* keep the browser's default order */ }
    }
  }
}

/** The ICE servers of a VisitSession or a 'welcome' as RTCPeerConnection takes them. */
export function toRtcIceServers(list: ReadonlyArray<{ urls: string[]; username?: string; credential?: string }>): RTCIceServer[] {
  return list.map((s) => ({ urls: s.urls, ...(s.username ? { username: s.username } : {}), ...(s.credential ? { credential: s.credential } : {}) }));
}
