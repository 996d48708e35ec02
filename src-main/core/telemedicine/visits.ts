/**
 * Video visits of the user sessions on this workstation: start (server visit + media key + ICE
 * servers + signalling socket), the patient link, consent, signalling relay, the transport check,
 * and every way a visit ends (here, by the server, sign-out, device revocation, transport refused).
 */
import { randomBytes } from 'node:crypto';
import type { EhrEvent, TransportVerdict, VisitLinkView, VisitSession } from '../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { transportProblem, type SignalMessage, type TransportReport } from '../../../src-shared/sync/visits';
import type { AuditActor } from '../audit';
import type { UserSession } from '../session';
import { isTransient } from '../sync/http-json';
import type { TelemedicineState } from './context';
import type { VisitEntry } from './visit-registry';

export type EndReason = Extract<EhrEvent, { event: 'visits.ended' }>['payload']['reason'];

const MEDIA_KEY_BYTES = 32;
/** Reconnect attempts after a socket loss while the visit is open (a network blip must not end a call). */
const RECONNECT_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000];

export function visitNotFound(): EhrError {
  return new EhrError(ErrorCode.NOT_FOUND, 'No open video visit with that id in this session.');
}

export function viewOf(v: VisitEntry, recordingPolicy: boolean): VisitSession {
  return {
    visitId: v.visitId,
    patientId: v.patientId,
    status: v.status,
    recordingConsent: v.recordingConsent,
    recordingAllowed: v.recordingConsent === true && recordingPolicy,
    mediaKey: v.mediaKey,
    iceServers: v.iceServers.map((s) => ({ urls: [...s.urls], ...(s.username ? { username: s.username } : {}), ...(s.credential ? { credential: s.credential } : {}) })),
    createdAt: v.createdAt,
  };
}

export function createVisits(t: TelemedicineState) {
  const { registry } = t;

  function openVisit(session: UserSession, visitId: string): VisitEntry {
    const v = registry.visit(visitId, session.sessionId);
    if (!v || v.status !== 'open') throw visitNotFound();
    return v;
  }

  /** Ends a visit once: socket closed, server told (unless it told us), audited, renderer told. */
  async function endOne(v: VisitEntry, reason: EndReason, opts: { tellServer: boolean; session?: UserSession; correlationId?: string }): Promise<void> {
    if (v.status === 'ended') return;
    v.status = 'ended';
    const socket = v.socket;
    v.socket = null;
    if (opts.tellServer) {
      try {
        if (opts.session) t.useSession(opts.session);
        await t.server.endVisit(v.visitId, opts.correlationId ?? v.actor.correlationId);
      } catch {
        // Offline or revoked: the server ends it on its own (the host socket is gone, the link expires).
      }
    }
    socket?.close();
    t.audit.record({ ...v.actor, correlationId: opts.correlationId ?? v.actor.correlationId }, {
      type: 'visit-end', patientId: v.patientId, resourceRefs: [`Encounter/${v.visitId}`], reasonCode: reason,
    });
    registry.removeVisit(v.visitId);
    t.emit({ event: 'visits.ended', payload: { visitId: v.visitId, reason } });
  }

  function onSignal(v: VisitEntry, message: SignalMessage): void {
    if (message.type === 'ended') {
      void endOne(v, message.reason, { tellServer: false });
      return;
    }
    t.emit({ event: 'visits.signal', payload: { visitId: v.visitId, message } });
  }

  /**
   * The bearer token is read at each (re)connect: a REST call may have refreshed it in place since
   * the visit started, and a socket must never upgrade with the expired one. An upgrade refused with
   * 401 (the access token expired since the last REST call) refreshes the session once and retries.
   */
  async function connect(v: VisitEntry, session: UserSession): Promise<void> {
    const open = async () => {
      const bearer = t.accessToken(session);
      if (!bearer) throw new EhrError(ErrorCode.NO_SESSION, 'Not signed in to the sync server.');
      return t.signals.connect(v.visitId, bearer, {
        onMessage: (m) => onSignal(v, m),
        onClose: () => {
          if (v.socket !== socket) return;
          v.socket = null;
          if (v.status === 'open') void reconnect(v, session);
        },
      });
    };
    let socket: Awaited<ReturnType<typeof open>>;
    try {
      socket = await open();
    } catch (e) {
      if (!(e instanceof EhrError) || e.code !== ErrorCode.UNAUTHENTICATED || !t.refreshSession) throw e;
      await t.refreshSession(session);
      socket = await open();
    }
    if (v.status !== 'open') socket.close();
    else v.socket = socket;
  }

  /** The socket dropped while the visit is open: retry; a server refusal means the visit is over there. */
  async function reconnect(v: VisitEntry, session: UserSession): Promise<void> {
    for (const delay of RECONNECT_DELAYS_MS) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (v.status !== 'open') return;
      try {
        await connect(v, session);
        return;
      } catch (e) {
        if (!isTransient(e)) break;
      }
    }
    await endOne(v, 'ended', { tellServer: false });
  }

  return {
    endOne,

    async start(session: UserSession, actor: AuditActor, patientId: string, correlationId: string): Promise<VisitEntry> {
      if (!t.accessToken(session)) throw new EhrError(ErrorCode.OFFLINE, 'A video visit needs the sync server: sign in while it can be reached.', { reason: 'OFFLINE_SESSION' });
      t.useSession(session);
      const visit = await t.server.startVisit(patientId, correlationId);
      const iceServers = await t.server.iceServers(correlationId).catch(() => []);
      const v: VisitEntry = {
        visitId: visit.visitId,
        patientId,
        sessionId: session.sessionId,
        userId: session.user.userId,
        actor: { ...actor, correlationId: session.sessionId },
        mediaKey: randomBytes(MEDIA_KEY_BYTES).toString('base64url'),
        iceServers,
        createdAt: t.now().getTime(),
        recordingConsent: visit.recordingConsent,
        status: 'open',
        socket: null,
      };
      registry.addVisit(v);
      try {
        await connect(v, session);
      } catch (e) {
        // Without signalling there is no visit: close it on the server too.
        await endOne(v, 'ended', { tellServer: true, session, correlationId });
        throw e;
      }
      t.audit.record(actor, { type: 'visit-start', patientId, resourceRefs: [`Encounter/${v.visitId}`] });
      return v;
    },

    active: (session: UserSession): VisitEntry[] => registry.visitsOf(session.sessionId).filter((v) => v.status === 'open'),

    async link(session: UserSession, visitId: string, minutes: number, correlationId: string): Promise<VisitLinkView> {
      const v = openVisit(session, visitId);
      t.useSession(session);
      const link = await t.server.createLink(visitId, minutes, correlationId);
      // The fragment never leaves the patient's browser: the server sees the token, never the key.
      return { visitId, url: `${link.url}#k=${v.mediaKey}`, expiresAt: Date.parse(link.expiresAt) };
    },

    async revokeLink(session: UserSession, visitId: string, correlationId: string): Promise<boolean> {
      openVisit(session, visitId);
      t.useSession(session);
      await t.server.revokeLink(visitId, correlationId);
      return true;
    },

    async consent(session: UserSession, actor: AuditActor, visitId: string, recording: boolean, method: 'verbal' | 'patient-page', correlationId: string): Promise<VisitEntry> {
      const v = openVisit(session, visitId);
      t.useSession(session);
      const visit = await t.server.consent(visitId, recording, method, correlationId);
      v.recordingConsent = visit.recordingConsent;
      t.audit.record(actor, {
        type: 'visit-consent', patientId: v.patientId, resourceRefs: [`Encounter/${visitId}`], reasonCode: recording ? 'consent-given' : 'consent-refused',
      });
      return v;
    },

    signal(session: UserSession, visitId: string, message: SignalMessage): boolean {
      const v = openVisit(session, visitId);
      return v.socket?.send(message) ?? false;
    },

    async transport(session: UserSession, actor: AuditActor, visitId: string, report: TransportReport, correlationId: string): Promise<TransportVerdict> {
      const v = openVisit(session, visitId);
      const problem = transportProblem(report);
      t.audit.record(actor, {
        type: 'visit-transport',
        outcome: problem ? 'denied' : 'success',
        patientId: v.patientId,
        resourceRefs: [`Encounter/${visitId}`],
        // The cipher name only (a fixed vocabulary, trimmed): never anything else the renderer sent.
        reasonCode: (report.srtpCipher ?? 'none').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) || 'none',
      });
      if (!problem) return { accepted: true };
      await endOne(v, 'transport-refused', { tellServer: true, session, correlationId });
      return { accepted: false, reason: problem };
    },

    async end(session: UserSession, visitId: string, correlationId: string): Promise<boolean> {
      const v = registry.visit(visitId, session.sessionId);
      if (!v) throw visitNotFound();
      if (v.status === 'ended') return false;
      await endOne(v, 'ended', { tellServer: true, session, correlationId });
      return true;
    },

    /** Logout: the session's visits end before its tokens are revoked (the server hears it from us). */
    async endSession(session: UserSession, reason: EndReason): Promise<void> {
      for (const v of registry.visitsOf(session.sessionId)) await endOne(v, reason, { tellServer: reason !== 'device-revoked', session });
    },

    /** Device revoked or the app closing: every visit on this workstation ends. */
    async endAll(reason: EndReason): Promise<void> {
      for (const v of registry.all()) await endOne(v, reason, { tellServer: false });
    },
  };
}
export type Visits = ReturnType<typeof createVisits>;
