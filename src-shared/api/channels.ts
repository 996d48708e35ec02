/**
 * The EhrApi contract: every channel the renderer may call, its input schema and its output type.
 * The preload exposes exactly these (window.ehr.invoke), the main process validates every input with
 * the schema here, and the e2e fixture injects the same bridge. Names are stable: add, never rename.
 */
import { z } from 'zod';
import {
  BreakGlassReasonSchema,
  Empty,
  FhirId,
  FhirResourceInput,
  LIMITS,
  PatientId,
  RecordId,
  RecordTypeSchema,
  jsonBytes,
} from './schemas';
import type {
  AuditEventBundle,
  AuditEntryView,
  AuditVerification,
  BatchSaveResult,
  BreakGlassGrant,
  CachedUser,
  Chart,
  ChartPage,
  ConflictSummary,
  Draft,
  DraftSummary,
  ExportResult,
  PatientPage,
  PatientSummary,
  PrintJob,
  RecordView,
  SaveResult,
  SessionStatus,
  SyncStatus,
} from './types';
import type { ReviewEpisode, ReviewItem } from '../sync/privacy';
import { DispositionSchema, ReviewSubjectSchema } from '../sync/privacy';
import { PEER_SIGNAL_TYPES, SignalMessageSchema, VISIT_LIMITS, type RecordingAccess } from '../sync/visits';
import type { RecordingChunkPage, RecordingView, TransportVerdict, VisitLinkView, VisitSession } from './types';

const VisitId = FhirId;
const RecordingId = FhirId;
/** What the renderer may send to the other peer (never the server's own kinds). */
const PeerSignal = SignalMessageSchema.refine((m) => (PEER_SIGNAL_TYPES as readonly string[]).includes(m.type), { message: 'not a peer message' });
/** A recording chunk as standard base64 (what FileReader/btoa give), at most VISIT_LIMITS.chunkBytes decoded. */
const ChunkBase64 = z
  .string()
  .min(4)
  .max(Math.ceil(VISIT_LIMITS.chunkBytes / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

const Username = z.string().min(1).max(LIMITS.usernameChars);
const Password = z.string().min(1).max(LIMITS.passwordChars);

export const channelSchemas = {
  // --- auth ---------------------------------------------------------------------------------
  /** Log in (online when the server answers, offline with the cached verifier otherwise). A login
   * while another user's session is open puts that session in the background, locked. */
  'auth.login': z.strictObject({ username: Username, password: Password }),
  /** Unlock the session in front (same user) with the password. */
  'auth.unlock': z.strictObject({ password: Password }),
  /** End the session in front; its drafts stay in the vault for that user. */
  'auth.logout': Empty,
  /** Lock the session in front and show the login screen so another user can log in. */
  'auth.switchUser': Empty,

  // --- session --------------------------------------------------------------------------------
  'session.status': Empty,
  /** Renderer activity (input events, throttled); resets the inactivity timer. */
  'session.heartbeat': Empty,
  /** The user locks the screen now. */
  'session.lock': Empty,

  // --- patients -------------------------------------------------------------------------------
  /** Search by name prefix (case/accent-insensitive), MRN or birth date; at least one is given. */
  'patients.search': z
    .strictObject({
      name: z.string().min(1).max(LIMITS.searchChars).optional(),
      mrn: z.string().min(1).max(LIMITS.idChars).optional(),
      birthDate: z.iso.date().optional(),
      limit: z.number().int().min(1).max(LIMITS.searchResults).default(25),
    })
    .refine((q) => q.name !== undefined || q.mrn !== undefined || q.birthDate !== undefined, {
      message: 'give a name, an MRN or a birth date',
    }),
  /**
   * "My patients": the signed-in clinician's care-team patients that are on this workstation and
   * accessible now (restricted ones only with a running grant), by name, one page at a time.
   */
  'patients.mine': z.strictObject({
    offset: z.number().int().min(0).max(LIMITS.myPatientsOffset).default(0),
    limit: z.number().int().min(1).max(LIMITS.searchResults).default(50),
  }),
  /** Open a chart: the patient and their records the role may read. */
  'patients.open': z.strictObject({ patientId: PatientId }),

  // --- records --------------------------------------------------------------------------------
  'records.list': z.strictObject({ patientId: PatientId, resourceType: RecordTypeSchema.optional() }),
  'records.get': z.strictObject({ patientId: PatientId, recordId: RecordId }),
  /** The chart timeline's next page: records older (by clinical date) than the cursor patients.open or the last page gave. */
  'records.older': z.strictObject({
    patientId: PatientId,
    before: z.strictObject({ date: z.string().max(64).regex(/^[0-9T:.+Z-]*$/), id: RecordId }),
    limit: z.number().int().min(1).max(LIMITS.chartPage).default(LIMITS.chartPage),
  }),
  /** Create (no baseVersion) or update (baseVersion = the version the user edited). */
  'records.save': z.strictObject({
    patientId: PatientId,
    resource: FhirResourceInput,
    baseVersion: z.number().int().min(0).optional(),
  }),
  'records.delete': z.strictObject({ patientId: PatientId, recordId: RecordId, baseVersion: z.number().int().min(0) }),
  /**
   * Several new records for one chart (a vitals form) in one call: all stored, queued and audited
   * in one vault transaction, or none. `requestId` is made once per submission by the caller: the
   * same id sent again with the same records answers the first call's result and writes nothing.
   */
  'records.createBatch': z.strictObject({
    patientId: PatientId,
    requestId: z.uuid(),
    resources: z.array(FhirResourceInput).min(1).max(LIMITS.batchRecords),
  }),

  // --- drafts (per user, encrypted in the vault) ----------------------------------------------
  'drafts.save': z.strictObject({
    key: z.string().min(1).max(LIMITS.draftKeyChars),
    patientId: PatientId.optional(),
    content: z.string().refine((s) => jsonBytes(s) <= LIMITS.draftBytes, { message: `draft exceeds ${LIMITS.draftBytes} bytes` }),
  }),
  'drafts.list': Empty,
  'drafts.get': z.strictObject({ draftId: FhirId }),
  'drafts.delete': z.strictObject({ draftId: FhirId }),

  // --- sync -----------------------------------------------------------------------------------
  'sync.status': Empty,
  'sync.now': Empty,
  'sync.conflicts': Empty,
  'sync.resolve': z.strictObject({ conflictId: FhirId, choice: z.enum(['local', 'server']) }),

  // --- break-glass ----------------------------------------------------------------------------
  'breakGlass.request': z.strictObject({
    patientId: PatientId,
    reason: BreakGlassReasonSchema,
    justification: z.string().min(1).max(LIMITS.justificationChars),
    password: Password,
  }),
  'breakGlass.end': z.strictObject({ patientId: PatientId }),
  'breakGlass.active': Empty,

  // --- audit (privacy officer) ----------------------------------------------------------------
  'audit.list': z.strictObject({
    afterSeq: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(LIMITS.auditPage).default(100),
    type: z.string().max(64).optional(),
    patientId: PatientId.optional(),
  }),
  'audit.verify': Empty,

  // --- privacy officer: the clinic-wide review queue (the server's, through the sync client) ------
  /** The queue: break-glass (online and offline), alerts of every kind, refused justifications. */
  'privacy.queue': z.strictObject({ open: z.boolean().default(true) }),
  /** One item with every record its user read during the grant (or the hour before an alert). */
  'privacy.episode': z.strictObject({ subject: ReviewSubjectSchema, id: FhirId }),
  /** Ends a review: a disposition and a note, appended on the server (never edited) and audited. */
  'privacy.dispose': z.strictObject({
    subject: ReviewSubjectSchema,
    id: FhirId,
    disposition: DispositionSchema,
    note: z.string().trim().min(1).max(LIMITS.reviewNoteChars),
  }),
  /** The item's audit trail and dispositions as a FHIR R4 Bundle of AuditEvent. */
  'privacy.export': z.strictObject({ subject: ReviewSubjectSchema, id: FhirId }),
  /** Suspend / reinstate the account an item is about (an access-rate alert, an inappropriate access). */
  'privacy.suspendUser': z.strictObject({ userId: FhirId, note: z.string().trim().min(1).max(LIMITS.justificationChars) }),
  'privacy.reinstateUser': z.strictObject({ userId: FhirId, note: z.string().trim().min(1).max(LIMITS.justificationChars) }),
  /** Who recorded, viewed, downloaded, deleted or purged visit recordings, and when (the server's append-only log). */
  'privacy.recordingAccess': z.strictObject({
    patientId: PatientId.optional(),
    recordingId: RecordingId.optional(),
    limit: z.number().int().min(1).max(500).default(200),
  }),

  // --- telemedicine (docs/telemedicine.md) ---------------------------------------------------
  /** Start a video visit from a chart (physician, care team or break-glass; IT policy videoVisits). */
  'visits.start': z.strictObject({ patientId: PatientId }),
  /** The visits of this session still open (the renderer reattaches after a reload or an unlock). */
  'visits.active': Empty,
  /** A new one-time patient link (earlier unused ones are revoked); its #k= fragment carries the media key. */
  'visits.link': z.strictObject({ visitId: VisitId, minutes: z.number().int().min(1).max(VISIT_LIMITS.linkMinutesMax).default(15) }),
  'visits.revokeLink': z.strictObject({ visitId: VisitId }),
  /** Record the patient's answer to "may we record this visit?" (audited, sent to the server). */
  'visits.consent': z.strictObject({ visitId: VisitId, recording: z.boolean(), method: z.enum(['verbal', 'patient-page']) }),
  /** One signalling message to the patient's page, relayed by the server. Works while locked. */
  'visits.signal': z.strictObject({ visitId: VisitId, message: PeerSignal }),
  /**
   * The renderer reports the media transport (RTCPeerConnection.getStats). Main decides: DTLS
   * connected and an allowed SRTP cipher, or the visit ends. Audited. Works while locked.
   */
  'visits.transport': z.strictObject({
    visitId: VisitId,
    dtlsState: z.string().max(32),
    srtpCipher: z.string().max(64).nullable(),
    dtlsCipher: z.string().max(64).nullable(),
    tlsVersion: z.string().max(16).nullable(),
    /** Frames sealed/opened by the frame-level E2EE transform so far (0 = not running). */
    framesSealed: z.number().int().min(0),
    framesOpened: z.number().int().min(0),
  }),
  /** End the visit (also on sign-out and device revocation). Works while locked. */
  'visits.end': z.strictObject({ visitId: VisitId }),
  /** Start recording (patient consent recorded and IT policy visitRecording). */
  'recordings.start': z.strictObject({ visitId: VisitId, mimeType: z.string().regex(/^video\/webm(;codecs=[a-z0-9.,]+)?$/).max(64) }),
  /** One chunk, sealed with the patient's data key in main before it touches disk or network. Works while locked. */
  'recordings.chunk': z.strictObject({ recordingId: RecordingId, seq: z.number().int().min(0).max(VISIT_LIMITS.chunksPerRecording - 1), data: ChunkBase64 }),
  /** Every chunk up to now is stored: the recording is complete. Works while locked. */
  'recordings.finish': z.strictObject({ recordingId: RecordingId }),
  /** A patient's recordings (chart section), metadata opened in main. */
  'recordings.list': z.strictObject({ patientId: PatientId }),
  /** Decrypted chunks, a page at a time; the first page of a view or download is audited. */
  'recordings.read': z.strictObject({
    recordingId: RecordingId,
    from: z.number().int().min(0).max(VISIT_LIMITS.chunksPerRecording),
    limit: z.number().int().min(1).max(VISIT_LIMITS.chunkPage).default(4),
    purpose: z.enum(['view', 'download']).default('view'),
  }),
  /** Delete a recording (its host or a privacy officer), with a reason; audited. */
  'recordings.delete': z.strictObject({ recordingId: RecordingId, reason: z.string().trim().min(1).max(VISIT_LIMITS.reasonChars) }),

  // --- print / export -------------------------------------------------------------------------
  /** Returns what to print and records the print in the audit log. */
  'print.chart': z.strictObject({ patientId: PatientId, recordIds: z.array(RecordId).max(LIMITS.recordIdsPerCall).optional() }),
  'export.chart': z.strictObject({ patientId: PatientId, recordIds: z.array(RecordId).max(LIMITS.recordIdsPerCall).optional() }),

  // --- users (admin) --------------------------------------------------------------------------
  'users.list': Empty,
  /** Clear a local lockout after repeated failed logins. */
  'users.unlock': z.strictObject({ userId: FhirId }),
  /** Remove a user's cached offline verifier from this workstation. */
  'users.forget': z.strictObject({ userId: FhirId }),
} as const;

export type Channel = keyof typeof channelSchemas;
export const CHANNELS = Object.keys(channelSchemas) as Channel[];

/** What the renderer passes (defaults not yet applied). */
export type ChannelInput<C extends Channel> = z.input<(typeof channelSchemas)[C]>;
/** What the handler receives after validation. */
export type ChannelParsedInput<C extends Channel> = z.output<(typeof channelSchemas)[C]>;

export interface ChannelOutputs {
  'auth.login': SessionStatus;
  'auth.unlock': SessionStatus;
  'auth.logout': SessionStatus;
  'auth.switchUser': SessionStatus;
  'session.status': SessionStatus;
  'session.heartbeat': { lockAt: number | null };
  'session.lock': SessionStatus;
  'patients.search': PatientSummary[];
  'patients.mine': PatientPage;
  'patients.open': Chart;
  'records.list': RecordView[];
  'records.get': RecordView;
  'records.older': ChartPage;
  'records.save': SaveResult;
  'records.delete': SaveResult;
  'records.createBatch': BatchSaveResult;
  'drafts.save': DraftSummary;
  'drafts.list': DraftSummary[];
  'drafts.get': Draft;
  'drafts.delete': { deleted: boolean };
  'sync.status': SyncStatus;
  'sync.now': SyncStatus;
  'sync.conflicts': ConflictSummary[];
  'sync.resolve': SyncStatus;
  'breakGlass.request': BreakGlassGrant;
  'breakGlass.end': { ended: boolean };
  'breakGlass.active': BreakGlassGrant[];
  'audit.list': AuditEntryView[];
  'audit.verify': AuditVerification;
  'privacy.queue': ReviewItem[];
  'privacy.episode': ReviewEpisode;
  'privacy.dispose': ReviewItem;
  'privacy.export': AuditEventBundle;
  'privacy.suspendUser': { userId: string; status: string };
  'privacy.reinstateUser': { userId: string; status: string };
  'privacy.recordingAccess': RecordingAccess[];
  'visits.start': VisitSession;
  'visits.active': VisitSession[];
  'visits.link': VisitLinkView;
  'visits.revokeLink': { revoked: boolean };
  'visits.consent': VisitSession;
  'visits.signal': { sent: boolean };
  'visits.transport': TransportVerdict;
  'visits.end': { ended: boolean };
  'recordings.start': RecordingView;
  'recordings.chunk': { stored: boolean };
  'recordings.finish': RecordingView;
  'recordings.list': RecordingView[];
  'recordings.read': RecordingChunkPage;
  'recordings.delete': RecordingView;
  'print.chart': PrintJob;
  'export.chart': ExportResult;
  'users.list': CachedUser[];
  'users.unlock': { unlocked: boolean };
  'users.forget': { forgotten: boolean };
}
export type ChannelOutput<C extends Channel> = ChannelOutputs[C];

/** Channels that work without an unlocked session (everything else answers NO_SESSION / LOCKED). */
export const PUBLIC_CHANNELS: ReadonlySet<Channel> = new Set<Channel>([
  'auth.login',
  'auth.unlock',
  'auth.logout',
  'auth.switchUser',
  'session.status',
  'session.heartbeat',
  'session.lock',
]);

/**
 * Channels that need a session but keep working while it is locked: an inactivity lock hides the
 * chart but must not cut a running video visit (docs/telemedicine.md). They read no PHI: they relay
 * signalling, report the transport, append sealed recording chunks, or end the visit.
 */
export const LOCKED_CHANNELS: ReadonlySet<Channel> = new Set<Channel>([
  'visits.signal',
  'visits.transport',
  'visits.end',
  'recordings.chunk',
  'recordings.finish',
]);

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(channelSchemas, value);
}
