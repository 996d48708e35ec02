/**
 * The open visits and recordings of each user session, in memory only. The media key lives here
 * and in the renderer (and in the patient's link #fragment): never in the vault, never on the
 * server, never in a log. A session's visits end with it (logout, device revocation).
 */
import type { IceServer } from '../../../src-shared/sync/visits';
import type { AuditActor } from '../audit';
import type { SignalSocket } from './signal-socket';

export interface VisitEntry {
  visitId: string;
  patientId: string;
  /** The user session that hosts it (UserSession.sessionId) and its user. */
  sessionId: string;
  userId: string;
  /** Who the visit's own events (socket end, transport) are audited as. */
  actor: AuditActor;
  /** 32 random bytes, base64url (43 chars). */
  mediaKey: string;
  iceServers: IceServer[];
  createdAt: number;
  recordingConsent: boolean | null;
  status: 'open' | 'ended';
  socket: SignalSocket | null;
}

export interface RecordingEntry {
  recordingId: string;
  visitId: string;
  patientId: string;
  sessionId: string;
  userId: string;
  mimeType: string;
  createdAt: number;
  /** Seqs main has sealed and stored (server-acknowledged or queued in the vault). */
  stored: Set<number>;
  status: 'recording' | 'complete';
}

export class VisitRegistry {
  private readonly visits = new Map<string, VisitEntry>();
  private readonly recordings = new Map<string, RecordingEntry>();

  addVisit(v: VisitEntry): void {
    this.visits.set(v.visitId, v);
  }

  /** The visit, only when the given session hosts it (another session's id is as good as unknown). */
  visit(visitId: string, sessionId: string): VisitEntry | null {
    const v = this.visits.get(visitId);
    return v && v.sessionId === sessionId ? v : null;
  }

  visitsOf(sessionId: string): VisitEntry[] {
    return [...this.visits.values()].filter((v) => v.sessionId === sessionId);
  }

  all(): VisitEntry[] {
    return [...this.visits.values()];
  }

  removeVisit(visitId: string): void {
    this.visits.delete(visitId);
    for (const [id, r] of this.recordings) if (r.visitId === visitId && r.status === 'complete') this.recordings.delete(id);
  }

  addRecording(r: RecordingEntry): void {
    this.recordings.set(r.recordingId, r);
  }

  recording(recordingId: string, sessionId: string): RecordingEntry | null {
    const r = this.recordings.get(recordingId);
    return r && r.sessionId === sessionId ? r : null;
  }

  recordingsOf(visitId: string): RecordingEntry[] {
    return [...this.recordings.values()].filter((r) => r.visitId === visitId);
  }

  dropRecording(recordingId: string): void {
    this.recordings.delete(recordingId);
  }
}
