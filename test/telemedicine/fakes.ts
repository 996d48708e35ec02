/**
 * Stand-ins for the sync server's visit routes and signalling relay, for tests of the main-process
 * core without a server: they keep what a server would (sealed envelopes, ids) and record every
 * body they receive, so a test can assert no plaintext or media key ever reached "the server".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { Envelope } from '../../src-shared/node/envelope';
import type { Recording, SignalMessage, Visit } from '../../src-shared/sync/visits';
import type { SignalConnector, SignalHandlers, SignalSocket, TelemedicineDeps, VisitServer } from '../../src-main/core/telemedicine';
import { offlineError } from '../../src-main/core/sync/http-json';
import type { UserSession } from '../../src-main/core/session';
import { USERS } from '../access/harness';

interface StoredRecording {
  rec: Recording;
  chunks: Map<number, string>;
}

export class FakeSignalHub implements SignalConnector {
  readonly peers = new Map<string, { handlers: SignalHandlers; fromHost: SignalMessage[]; open: boolean; token: string }>();

  async connect(visitId: string, accessToken: string, handlers: SignalHandlers): Promise<SignalSocket> {
    const peer = { handlers, fromHost: [] as SignalMessage[], open: true, token: accessToken };
    this.peers.set(visitId, peer);
    return {
      get open() {
        return peer.open;
      },
      send: (m) => {
        if (!peer.open) return false;
        peer.fromHost.push(m);
        return true;
      },
      close: () => {
        peer.open = false;
      },
    };
  }

  /** The patient's page sends a message through the relay. */
  fromPatient(visitId: string, m: SignalMessage): void {
    const p = this.peers.get(visitId);
    if (p?.open) p.handlers.onMessage(m);
  }

  /** The server ends the visit: 'ended' to the host, then the socket closes. */
  serverEnds(visitId: string, reason: 'ended' | 'signed-out' | 'device-revoked' | 'expired'): void {
    const p = this.peers.get(visitId);
    if (!p?.open) return;
    p.handlers.onMessage({ type: 'ended', reason });
    p.open = false;
    p.handlers.onClose();
  }
}

export class FakeVisitServer implements VisitServer {
  online = true;
  /** Who is calling (the session the core installed with useSession). */
  as: string | null = null;
  /** Every request body, JSON (to scan for plaintext and media keys). */
  readonly wire: string[] = [];
  readonly visits = new Map<string, Visit & { patientEnded: boolean }>();
  readonly recordings = new Map<string, StoredRecording>();

  constructor(private readonly hub: FakeSignalHub) {}

  private reach(body?: unknown): void {
    if (!this.online) throw offlineError('ECONNREFUSED');
    if (body !== undefined) this.wire.push(JSON.stringify(body));
  }

  private mayRead(patientId: string): void {
    const u = USERS.find((x) => x.id === this.as);
    if (!u || !u.careTeam.includes(patientId)) throw new EhrError(ErrorCode.FORBIDDEN, 'Not allowed.');
  }

  async startVisit(patientId: string): Promise<Visit> {
    this.reach({ patientId });
    this.mayRead(patientId);
    const v = { visitId: randomUUID(), patientId, hostUserId: this.as!, status: 'open' as const, recordingConsent: null, createdAt: new Date().toISOString(), endedAt: null };
    this.visits.set(v.visitId, { ...v, patientEnded: false });
    return v;
  }
  async createLink(visitId: string, minutes: number) {
    this.reach({ minutes });
    return { visitId, url: `https://clinic.example/visit/${randomBytes(32).toString('base64url')}`, expiresAt: new Date(Date.now() + minutes * 60_000).toISOString() };
  }
  async revokeLink(): Promise<void> {
    this.reach({});
  }
  async consent(visitId: string, recording: boolean, method: string): Promise<Visit> {
    this.reach({ recording, method });
    const v = this.visits.get(visitId)!;
    v.recordingConsent = recording;
    return strip(v);
  }
  async endVisit(visitId: string): Promise<Visit> {
    this.reach({});
    const v = this.visits.get(visitId)!;
    v.status = 'ended';
    v.patientEnded = true; // the relay would now send 'ended' to the patient's page
    return strip(v);
  }
  async iceServers() {
    this.reach();
    return [{ urls: ['stun:stun.clinic.example:3478'] }];
  }
  async startRecording(visitId: string, recordingId: string, meta: Envelope): Promise<Recording> {
    this.reach({ recordingId, meta });
    const v = this.visits.get(visitId)!;
    if (v.recordingConsent !== true) throw new EhrError(ErrorCode.FORBIDDEN, 'No consent.');
    const rec: Recording = { recordingId, visitId, patientId: v.patientId, createdBy: this.as!, createdAt: new Date().toISOString(), status: 'recording', chunkCount: 0, meta, deleteAfter: null };
    this.recordings.set(recordingId, { rec, chunks: new Map() });
    return rec;
  }
  async putChunk(recordingId: string, seq: number, envelope: Envelope): Promise<void> {
    this.reach({ envelope });
    const r = this.recordings.get(recordingId)!;
    const json = JSON.stringify(envelope);
    const before = r.chunks.get(seq);
    if (before !== undefined && before !== json) throw new EhrError(ErrorCode.CONFLICT, 'Different chunk.');
    r.chunks.set(seq, json);
    r.rec.chunkCount = r.chunks.size;
  }
  async finishRecording(recordingId: string, chunkCount: number): Promise<Recording> {
    this.reach({ chunkCount });
    const r = this.recordings.get(recordingId)!;
    if (r.chunks.size !== chunkCount) throw new EhrError(ErrorCode.CONFLICT, 'Missing chunks.');
    r.rec.status = 'complete';
    return { ...r.rec };
  }
  async listRecordings(patientId: string): Promise<Recording[]> {
    this.reach();
    this.mayRead(patientId);
    return [...this.recordings.values()].filter((r) => r.rec.patientId === patientId).map((r) => ({ ...r.rec }));
  }
  async chunks(recordingId: string, from: number, limit: number) {
    this.reach();
    const r = this.recordings.get(recordingId);
    if (!r) throw new EhrError(ErrorCode.NOT_FOUND, 'No such recording.');
    this.mayRead(r.rec.patientId);
    const out: Array<{ seq: number; envelope: Envelope }> = [];
    for (let s = from; s < from + limit && r.chunks.has(s); s++) out.push({ seq: s, envelope: JSON.parse(r.chunks.get(s)!) as Envelope });
    return out;
  }
  async deleteRecording(recordingId: string, reason: string): Promise<Recording> {
    this.reach({ reason });
    const r = this.recordings.get(recordingId)!;
    r.chunks.clear();
    r.rec = { ...r.rec, status: 'deleted', meta: null };
    return { ...r.rec };
  }
  /** Every stored byte of "the database". */
  dump(): string {
    return JSON.stringify({ visits: [...this.visits.values()], recordings: [...this.recordings.values()].map((r) => ({ rec: r.rec, chunks: [...r.chunks.values()] })) }) + this.wire.join('\n');
  }
  /** Flip one ciphertext byte of a stored chunk (a tampering server or disk). */
  tamper(recordingId: string, seq: number): void {
    const r = this.recordings.get(recordingId)!;
    const e = JSON.parse(r.chunks.get(seq)!) as Envelope;
    const ct = Buffer.from(e.ct, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 0x01;
    r.chunks.set(seq, JSON.stringify({ ...e, ct: ct.toString('base64url') }));
  }
  hubOf(): FakeSignalHub {
    return this.hub;
  }
}

function strip(v: Visit & { patientEnded: boolean }): Visit {
  const { patientEnded: _ended, ...rest } = v;
  return rest;
}

/** One random data key per patient, as the vault's key cache would hold. */
export function fakeKeys(): TelemedicineDeps['keys'] & { keys: Map<string, Buffer> } {
  const keys = new Map<string, Buffer>();
  const ids = new Map<string, string>();
  const get = (patientId: string) => {
    let k = keys.get(patientId);
    if (!k) keys.set(patientId, (k = randomBytes(32)));
    if (!ids.has(patientId)) ids.set(patientId, randomUUID());
    return { keyId: ids.get(patientId)!, key: k };
  };
  return { keys, sealingKey: async (p) => get(p), openingKey: async (p) => get(p) };
}

export function fakeTelemedicine() {
  const hub = new FakeSignalHub();
  const server = new FakeVisitServer(hub);
  const keys = fakeKeys();
  const parts = () => ({
    server,
    signals: hub,
    keys,
    useSession: (s: UserSession) => {
      server.as = s.user.userId;
    },
    accessToken: (s: UserSession) => (s.serverAuth as { accessToken?: string } | null)?.accessToken ?? null,
  });
  return { hub, server, keys, parts };
}
