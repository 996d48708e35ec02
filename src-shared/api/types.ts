/**
 * What the API returns. Plain JSON-serialisable shapes (they cross Electron's structured clone),
 * timestamps as epoch milliseconds. These are the only shapes PHI crosses the bridge in.
 */
import type { AuditEvent, Patient, Resource } from '@medplum/fhirtypes';
import type { Role, PatientAccess } from '../access';
import type { BreakGlassReason } from '../policy';
import type { RecordType } from './schemas';

export type SessionState = 'none' | 'active' | 'warning' | 'locked';
export type LockReason = 'idle' | 'screen-lock' | 'suspend' | 'user' | 'switch-user';

export interface UserInfo {
  userId: string;
  username: string;
  displayName: string;
  roles: Role[];
}

export interface BreakGlassGrant {
  grantId: string;
  patientId: string;
  reason: BreakGlassReason;
  startedAt: number;
  /** When access ends; the renderer shows a countdown to it. */
  expiresAt: number;
}

export interface SessionStatus {
  state: SessionState;
  /** The user whose session is in front (active, warning or locked). */
  user: UserInfo | null;
  /** When the inactivity lock fires if no activity arrives (state active/warning). */
  lockAt: number | null;
  /** When the warning fires (lockAt minus the policy's warning seconds). */
  warningAt: number | null;
  /** Logged in without the server (offline verifier). */
  offline: boolean;
  breakGlass: BreakGlassGrant[];
  /** Every session kept on this workstation (other users' are locked in the background). */
  sessions: Array<{ userId: string; username: string; displayName: string; state: SessionState }>;
  /** Policy figures the renderer needs for its own (first-line) timer. */
  lockTimeoutMinutes: number;
  lockWarningSeconds: number;
  /** IT policy: video visits (and their recording) on this workstation. */
  videoVisits: boolean;
  visitRecording: boolean;
}

export interface PatientSummary {
  id: string;
  mrn: string | null;
  family: string | null;
  given: string[];
  birthDate: string | null;
  gender: string | null;
  /** Why the user may (or may not) open the chart; 'restricted'/'none' require break-glass. */
  access: PatientAccess;
}

/** One page of "my patients" (patients.mine): the summaries and where the next page starts. */
export interface PatientPage {
  patients: PatientSummary[];
  /** The offset of the next page, or null when this was the last. */
  nextOffset: number | null;
}

/** synced: as on the server; pending: a local change waiting in the outbox; conflict: both versions kept. */
export type RecordStatus = 'synced' | 'pending' | 'conflict' | 'deleted';

export interface RecordView {
  id: string;
  patientId: string;
  resourceType: RecordType;
  /** The server version this record is based on (0 = created here, not yet on the server). */
  version: number;
  status: RecordStatus;
  updatedAt: number;
  resource: Resource;
}

export interface Chart {
  patient: Patient;
  access: PatientAccess;
  records: RecordView[];
  /**
   * What of the chart is here and what is not (set by patients.open). Every problem, medication
   * and allergy is in `records`, and the newest vital signs; the timeline (encounters,
   * observations, procedures, immunizations, notes) comes newest clinical date first, one page at
   * a time (records.older).
   */
  paging?: ChartPaging;
}

/** Where the chart's timeline stands, and what the chart never shows. Counts and ids only. */
export interface ChartPaging {
  /** Timeline records on file that this role may read. */
  timelineTotal: number;
  /** Pass to records.older for the next (older) page; null when the whole timeline is loaded. */
  olderCursor: ChartCursor | null;
  /** Records on this workstation the chart does not show (financial: Claim, ExplanationOfBenefit, Coverage...), by type. */
  notShown: { resourceType: string; count: number }[];
}

/** The clinical date ('' when none) and id of the oldest timeline record loaded. */
export interface ChartCursor {
  date: string;
  id: string;
}

/** records.older: the next page of the timeline, and the cursor after it. */
export interface ChartPage {
  records: RecordView[];
  olderCursor: ChartCursor | null;
}

export interface SaveResult {
  id: string;
  version: number;
  /** The outbox mutation that will carry this write to the server. */
  mutationId: string;
}

/** records.createBatch: one result per resource, in the order given. */
export interface BatchSaveResult {
  requestId: string;
  results: SaveResult[];
  /** True when this answers a retry: the records were written by the first call with this requestId. */
  replayed: boolean;
}

export interface DraftSummary {
  draftId: string;
  key: string;
  patientId: string | null;
  updatedAt: number;
}

export interface Draft extends DraftSummary {
  content: string;
}

export type SyncState = 'idle' | 'syncing' | 'offline' | 'error' | 'disabled';

export interface SyncStatus {
  state: SyncState;
  pendingMutations: number;
  conflicts: number;
  /** When the last sync cycle succeeded (this workstation's clock): an attempt, not the data's age. */
  lastSyncAt: number | null;
  /**
   * "Data as of": the SERVER's time at the start of the last pull that ran to its end (epoch ms), or
   * null before the first complete pull. A failed or cut-off pull never moves it.
   */
  dataAsOfAt?: number | null;
  /** The pull in flight (records received of the total), for a progress bar; null when none runs. */
  pull?: { done: number; total: number } | null;
  /** A PHI-free reason when state is 'error' or 'offline'. */
  message?: string;
  /**
   * Break-glass alerts taken on this workstation that the server has not received yet (their
   * audit entry is still unpushed: typically an offline break-glass). Set by the workstation.
   */
  breakGlassAlertsPending?: number;
  /**
   * Justifications of offline break-glass not on the server yet (waiting for the audit push, for
   * that user to sign in online, or for the server), and those the server refused — kept on this
   * workstation, shown to the admin, never dropped. Set by the workstation.
   */
  breakGlassJustificationsPending?: number;
  breakGlassJustificationsRefused?: number;
  /**
   * Audit entries this workstation sent as quarantined placeholders (the server refused their
   * content; their place in the chain is kept and the full entry stays here for IT). Set by sync.
   */
  auditQuarantined?: number;
}

/** One side of a sync conflict: the version itself and who wrote it, where and when (ids only). */
export interface ConflictSide {
  resource: Resource;
  version: number;
  authorUserId: string | null;
  deviceId: string | null;
  /** ISO 8601 time the version was written (as the sync protocol carries it), null when unknown. */
  at: string | null;
}

export interface ConflictSummary {
  conflictId: string;
  patientId: string;
  recordId: string;
  resourceType: string;
  localVersion: number;
  serverVersion: number;
  /** This workstation's version (kept in the chart until resolved). */
  mine: ConflictSide;
  /** The server's version (kept beside it). */
  theirs: ConflictSide;
}

/** An audit entry as the privacy officer sees it: ids and codes, never PHI. */
export interface AuditEntryView {
  seq: number;
  at: number;
  action: string;
  type: string;
  outcome: string;
  severity: string;
  userId: string | null;
  role: string | null;
  patientId: string | null;
  entity: string | null;
  correlationId: string | null;
}

export interface AuditVerification {
  ok: boolean;
  count: number;
  /** The first broken seq and why (gap, fork, edit, reorder, signature), when not ok. */
  firstBadSeq?: number;
  problem?: string;
}

export interface CachedUser {
  userId: string;
  username: string;
  roles: Role[];
  lastOnlineLoginAt: number | null;
  failedCount: number;
  lockedUntil: number | null;
}

export interface PrintJob {
  jobId: string;
  patientId: string;
  records: RecordView[];
  patient: Patient;
}

export interface ExportResult {
  patientId: string;
  /** A FHIR R4 Bundle (collection) of the patient and the chosen records. */
  bundle: { resourceType: 'Bundle'; type: 'collection'; entry: Array<{ resource: Resource }> };
}

/** privacy.export: an item's audit trail and dispositions as FHIR R4 AuditEvents. */
export interface AuditEventBundle {
  resourceType: 'Bundle';
  type: 'collection';
  entry: Array<{ resource: AuditEvent }>;
}

/** The privacy officer's review queue, as the server sends it (src-shared/sync/privacy.ts). */
export type { DispositionRecord, EpisodeRead, ReviewEpisode, ReviewItem, ReviewSubject, Disposition } from '../sync/privacy';
export type { RecordingAccess } from '../sync/visits';

// --- telemedicine (docs/telemedicine.md) -----------------------------------------------------

/** A video visit as the renderer sees it. `mediaKey` never reaches the server. */
export interface VisitSession {
  visitId: string;
  patientId: string;
  status: 'open' | 'ended';
  /** The patient's recording answer as recorded (null = not asked yet). */
  recordingConsent: boolean | null;
  /** Consent given and IT policy allows recording here. */
  recordingAllowed: boolean;
  /** AES-256 key (base64url, 43 chars) for frame-level encryption of this visit's media. */
  mediaKey: string;
  /** STUN/TURN for RTCPeerConnection (short-lived TURN credentials). */
  iceServers: Array<{ urls: string[]; username?: string; credential?: string }>;
  createdAt: number;
}

export interface VisitLinkView {
  visitId: string;
  /** https://<server>/visit/<token>#k=<media key>: give it to the patient only. */
  url: string;
  expiresAt: number;
}

/** Main's decision on a reported media transport. */
export interface TransportVerdict {
  accepted: boolean;
  /** Why not (PHI-free), when not accepted: the visit has been ended. */
  reason?: string;
}

export interface RecordingView {
  recordingId: string;
  visitId: string;
  patientId: string;
  createdBy: string;
  createdAt: number;
  status: 'recording' | 'complete' | 'deleted';
  chunkCount: number;
  mimeType: string | null;
  /** From the sealed FHIR Media, opened in main (null once deleted). */
  title: string | null;
  durationMs: number | null;
}

export interface RecordingChunkPage {
  recordingId: string;
  mimeType: string;
  /** Decrypted chunks, standard base64, in seq order. */
  chunks: Array<{ seq: number; data: string }>;
  /** No chunk after the last one returned. */
  done: boolean;
}
