/**
 * Telemedicine on the wire (docs/telemedicine.md): video visits, their one-time patient links, the
 * signalling messages the server relays between the two peers, and recordings stored as envelopes.
 *
 * What the server sees: visit ids, patient ids, user ids, times, SDP/ICE (network addresses and
 * codec lists, no media) and sealed envelopes. It never sees media (peer to peer, DTLS-SRTP, and each
 * frame sealed again with the per-visit media key that travels only in the link's #fragment), and
 * never a recording's bytes or metadata in plaintext (sealed with the patient's data key on the
 * physician's workstation, exactly like a record: src-shared/node/envelope.ts).
 */
import { z } from 'zod';
import { B64uSchema, IdSchema, Int4Schema, IsoDateTimeSchema } from './common';
import { EnvelopeSchema } from './envelope';

export const VISIT_LIMITS = {
  /** One SDP offer/answer, characters (a browser's is 3-8 KB). */
  sdpChars: 32_000,
  /** One ICE candidate line, characters. */
  candidateChars: 1_024,
  /** One signalling message on the socket, bytes (anything larger closes the socket, 1009). */
  signalBytes: 40_000,
  /** Signalling messages per socket per 10 s before the server closes it (1008). */
  signalsPer10s: 200,
  /** Plaintext bytes of one recording chunk (a MediaRecorder timeslice of ~1 s is 50-300 KB; a larger blob is split). Its base64 form must fit the IPC input limit. */
  chunkBytes: 512 * 1024,
  /** Chunks per recording: ~8 hours at 1 s. */
  chunksPerRecording: 30_000,
  /** Chunks per GET page. */
  chunkPage: 16,
  /** Patient link lifetime bounds, minutes. */
  linkMinutesMax: 120,
  reasonChars: 500,
} as const;

/** Envelope resource types: the recording's FHIR Media (metadata) is version 1; chunk n is a Binary at version n + 1. */
export const RECORDING_META_TYPE = 'Media';
export const RECORDING_CHUNK_TYPE = 'Binary';

export const VisitStatusSchema = z.enum(['open', 'ended']);
export const VisitSchema = z
  .object({
    visitId: IdSchema,
    patientId: IdSchema,
    /** The physician who started it (the only one who may link, consent, record or end it). */
    hostUserId: IdSchema,
    status: VisitStatusSchema,
    /** Recording consent as captured in the visit: null = not asked yet. */
    recordingConsent: z.boolean().nullable(),
    createdAt: IsoDateTimeSchema,
    endedAt: IsoDateTimeSchema.nullable(),
  })
  .strict();
export type Visit = z.infer<typeof VisitSchema>;

/** POST /v1/visits — scope- and care-team-checked (break-glass grants count), audited. */
export const StartVisitRequestSchema = z.object({ patientId: IdSchema }).strict();

/** A link token: 32 random bytes, base64url. The server stores only its SHA-256. */
export const VisitTokenSchema = B64uSchema.length(43);

/** POST /v1/visits/:visitId/link — a new one-time link; any earlier unused link of the visit is revoked. */
export const CreateVisitLinkRequestSchema = z.object({ minutes: z.number().int().min(1).max(VISIT_LIMITS.linkMinutesMax).default(15) }).strict();
export const VisitLinkSchema = z
  .object({
    visitId: IdSchema,
    /** https://<server>/visit/<token> — the workstation appends `#k=<media key>` (never sent to the server). */
    url: z.url({ protocol: /^https$/ }),
    expiresAt: IsoDateTimeSchema,
  })
  .strict();
export type VisitLink = z.infer<typeof VisitLinkSchema>;

/** POST /v1/visits/:visitId/consent — the physician records the patient's answer; audited. */
export const VisitConsentRequestSchema = z
  .object({ recording: z.boolean(), method: z.enum(['verbal', 'patient-page']) })
  .strict();

/** GET /v1/visits/ice — STUN/TURN servers for the peers (TURN REST credentials, short-lived). */
export const IceServerSchema = z
  .object({
    urls: z.array(z.string().regex(/^(stun|turn|turns):[A-Za-z0-9.:[\]?=_-]{1,250}$/)).min(1).max(8),
    username: z.string().max(256).optional(),
    credential: z.string().max(256).optional(),
  })
  .strict();
export const IceServersResponseSchema = z
  .object({ iceServers: z.array(IceServerSchema).max(8), ttlSeconds: Int4Schema })
  .strict();
export type IceServer = z.infer<typeof IceServerSchema>;

/**
 * Signalling messages. The clinician's socket is GET /v1/visits/:visitId/signal (bearer token,
 * host only); the patient's is GET /visit/:token/signal (the token is consumed by that upgrade:
 * single use). The server relays offer/answer/ice/bye to the other peer unchanged after checking
 * this schema, and sends `peer` and `ended` itself. It stores none of them.
 */
export const SignalMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('offer'), sdp: z.string().min(1).max(VISIT_LIMITS.sdpChars) }).strict(),
  z.object({ type: z.literal('answer'), sdp: z.string().min(1).max(VISIT_LIMITS.sdpChars) }).strict(),
  z
    .object({
      type: z.literal('ice'),
      candidate: z.string().max(VISIT_LIMITS.candidateChars),
      sdpMid: z.string().max(32).nullable(),
      sdpMLineIndex: z.number().int().min(0).max(64).nullable(),
    })
    .strict(),
  /** The patient page's own consent answer (shown to the physician, who records it). */
  z.object({ type: z.literal('consent'), recording: z.boolean() }).strict(),
  z.object({ type: z.literal('bye') }).strict(),
  /** Server → patient page on join: the ICE servers to use (short-lived TURN credentials). */
  z.object({ type: z.literal('welcome'), iceServers: z.array(IceServerSchema).max(8) }).strict(),
  /** Server → peer: the other side joined or left. */
  z.object({ type: z.literal('peer'), present: z.boolean() }).strict(),
  /** Server → peer: the visit is over (ended, revoked device, signed out); the socket closes next. */
  z.object({ type: z.literal('ended'), reason: z.enum(['ended', 'signed-out', 'device-revoked', 'expired']) }).strict(),
]);
export type SignalMessage = z.infer<typeof SignalMessageSchema>;
/** What a peer may send (the server's own kinds are refused from a peer). */
export const PEER_SIGNAL_TYPES = ['offer', 'answer', 'ice', 'consent', 'bye'] as const;

/** A recording chunk or metadata envelope: a record envelope whose recordId is the recording id. */
export const RecordingEnvelopeSchema = EnvelopeSchema;

/** POST /v1/visits/:visitId/recordings — only with recordingConsent === true, by the host. */
export const StartRecordingRequestSchema = z
  .object({ recordingId: IdSchema, meta: RecordingEnvelopeSchema })
  .strict();

export const RecordingStatusSchema = z.enum(['recording', 'complete', 'deleted']);
export const RecordingSchema = z
  .object({
    recordingId: IdSchema,
    visitId: IdSchema,
    patientId: IdSchema,
    createdBy: IdSchema,
    createdAt: IsoDateTimeSchema,
    status: RecordingStatusSchema,
    chunkCount: Int4Schema,
    /** Sealed FHIR Media (title, content type, period, note): opened on the workstation only. Null once deleted. */
    meta: RecordingEnvelopeSchema.nullable(),
    /** Retention: when the server purges it (policy), or null. */
    deleteAfter: IsoDateTimeSchema.nullable(),
  })
  .strict();
export type Recording = z.infer<typeof RecordingSchema>;

/** PUT /v1/recordings/:recordingId/chunks/:seq — idempotent for identical bytes; a different chunk at a stored seq is 409. */
export const PutChunkRequestSchema = z.object({ envelope: RecordingEnvelopeSchema }).strict();
/** POST /v1/recordings/:recordingId/finish — every seq 0..chunkCount-1 must be stored. */
export const FinishRecordingRequestSchema = z.object({ chunkCount: Int4Schema.max(VISIT_LIMITS.chunksPerRecording) }).strict();
/** GET /v1/patients/:patientId/recordings — access-checked like a chart pull, audited. */
export const RecordingListResponseSchema = z.object({ recordings: z.array(RecordingSchema) }).strict();
/** GET /v1/recordings/:recordingId/chunks?from=&limit= — access-checked, every page audited (recording.view). */
export const ChunkQuerySchema = z
  .object({
    from: z.coerce.number().int().min(0).max(VISIT_LIMITS.chunksPerRecording),
    limit: z.coerce.number().int().min(1).max(VISIT_LIMITS.chunkPage).default(VISIT_LIMITS.chunkPage),
    /** What the caller does with the bytes, for the audit trail. */
    purpose: z.enum(['view', 'download']).default('view'),
  })
  .strict();
export const ChunkPageSchema = z
  .object({ chunks: z.array(z.object({ seq: Int4Schema, envelope: RecordingEnvelopeSchema }).strict()) })
  .strict();
/** POST /v1/recordings/:recordingId/delete — the recording's host, or a privacy officer; chunks are erased, the row stays as a tombstone. */
export const DeleteRecordingRequestSchema = z.object({ reason: z.string().trim().min(1).max(VISIT_LIMITS.reasonChars) }).strict();

/** One access to a recording as the server saw it (the privacy officer's review). */
export const RecordingAccessSchema = z
  .object({
    recordingId: IdSchema,
    patientId: IdSchema,
    userId: IdSchema,
    action: z.enum(['record', 'view', 'download', 'delete', 'purge']),
    at: IsoDateTimeSchema,
    deviceId: IdSchema.nullable(),
  })
  .strict();
export type RecordingAccess = z.infer<typeof RecordingAccessSchema>;
/** GET /v1/privacy/recording-access?recordingId=|patientId= — privacy officer only. */
export const RecordingAccessQuerySchema = z
  .object({ recordingId: IdSchema.optional(), patientId: IdSchema.optional(), limit: z.coerce.number().int().min(1).max(500).default(200) })
  .strict();
export const RecordingAccessResponseSchema = z.object({ events: z.array(RecordingAccessSchema) }).strict();

/**
 * SRTP protection profiles a visit may run on, best first. Browsers name them from two IANA
 * registries (SRTP_AES128_CM_HMAC_SHA1_80 vs AES_CM_128_HMAC_SHA1_80), so both spellings are listed.
 * Chromium negotiates AES-CM-128 + HMAC-SHA1-80 between two Chromium peers (no script knob asks for
 * GCM); AES-GCM is taken whenever the other side offers it first. Either way every frame is also
 * sealed with AES-256-GCM under the per-visit key (frame-level E2EE), so the media is AEAD end to end.
 * The 32-bit-tag and NULL profiles are refused.
 */
export const ALLOWED_SRTP_CIPHERS = [
  'AEAD_AES_256_GCM',
  'SRTP_AEAD_AES_256_GCM',
  'AEAD_AES_128_GCM',
  'SRTP_AEAD_AES_128_GCM',
  'SRTP_AES128_CM_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_80',
] as const;

export interface TransportReport {
  dtlsState: string;
  srtpCipher: string | null;
  dtlsCipher: string | null;
  tlsVersion: string | null;
  framesSealed: number;
  framesOpened: number;
}

/**
 * The one rule (renderer hangs up on it, main enforces it): DTLS connected, an allowed SRTP
 * profile, DTLS 1.2 or later (Chromium reports the version as hex: FEFD = 1.2, FEFC = 1.3), and
 * the frame-level E2EE transform running both ways. Returns null when acceptable, else a PHI-free reason.
 */
export function transportProblem(r: TransportReport): string | null {
  if (r.dtlsState !== 'connected') return `DTLS is ${r.dtlsState.replace(/[^a-z-]/g, '') || 'not connected'}, not connected`;
  if (!r.srtpCipher || !(ALLOWED_SRTP_CIPHERS as readonly string[]).includes(r.srtpCipher)) return 'the media is not protected by an allowed SRTP cipher';
  if (r.tlsVersion !== null && !/^(FEFD|FEFC)$/i.test(r.tlsVersion)) return 'DTLS older than 1.2';
  if (r.framesSealed === 0 || r.framesOpened === 0) return 'frame-level encryption is not running both ways';
  return null;
}
