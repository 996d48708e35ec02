/**
 * Every route of the wire protocol in one table: method, path, whether it needs a bearer token
 * and the correlation header, and its request/response schemas. The server registers from it and
 * the client (src-main/core/sync/server-client.ts) can type its calls from it.
 */
import { z } from 'zod';
import { OkResponseSchema, LoginRequestSchema, LogoutRequestSchema, MeResponseSchema, RefreshRequestSchema, TokenResponseSchema } from './auth';
import { EnrollmentCodeRequestSchema, EnrollmentCodeResponseSchema, EnrollRequestSchema, EnrollResponseSchema, DeviceSchema } from './devices';
import { PullQuerySchema, PullResponseSchema, PushRequestSchema, PushResponseSchema } from './sync';
import { UnwrapKeyRequestSchema, UnwrapKeyResponseSchema, UnwrapKeysBatchRequestSchema, UnwrapKeysBatchResponseSchema, WrapKeyRequestSchema, WrapKeyResponseSchema } from './keys';
import { AuditBundleSchema, AuditIngestRequestSchema, AuditIngestResponseSchema, AuditQueryResponseSchema, AuditQuerySchema } from './audit';
import { BreakGlassRequestSchema, BreakGlassResponseSchema, OfflineJustificationRequestSchema, OfflineJustificationResponseSchema } from './break-glass';
import {
  AlertListQuerySchema,
  AlertListResponseSchema,
  AlertSchema,
  BreakGlassListResponseSchema,
  BreakGlassReviewSchema,
  CareTeamListResponseSchema,
  CareTeamSchema,
  CreateUserRequestSchema,
  AdminUserSchema,
  ReinstateRequestSchema,
  ReviewNoteRequestSchema,
  SetRestrictedRequestSchema,
  SetRolesRequestSchema,
  UserListResponseSchema,
} from './admin';
import {
  DispositionRequestSchema,
  ReviewEpisodeResponseSchema,
  ReviewItemSchema,
  ReviewQueueQuerySchema,
  ReviewQueueResponseSchema,
  SuspendRequestSchema,
} from './privacy';
import {
  ChunkPageSchema,
  ChunkQuerySchema,
  CreateVisitLinkRequestSchema,
  DeleteRecordingRequestSchema,
  FinishRecordingRequestSchema,
  IceServersResponseSchema,
  PutChunkRequestSchema,
  RecordingAccessQuerySchema,
  RecordingAccessResponseSchema,
  RecordingListResponseSchema,
  RecordingSchema,
  StartRecordingRequestSchema,
  StartVisitRequestSchema,
  VisitConsentRequestSchema,
  VisitLinkSchema,
  VisitSchema,
} from './visits';

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** Bearer access token required. */
  auth: boolean;
  /** x-audit-correlation-id required (PHI or key material). */
  phi: boolean;
  body?: z.ZodType;
  query?: z.ZodType;
  response: z.ZodType;
}

const EmptySchema = z.object({}).strict();
const DeviceListResponseSchema = z.object({ devices: z.array(DeviceSchema) }).strict();
export const HealthResponseSchema = z.object({ ok: z.literal(true), version: z.string() }).strict();

export const ROUTES = {
  health: { method: 'GET', path: '/v1/health', auth: false, phi: false, response: HealthResponseSchema },
  login: { method: 'POST', path: '/v1/auth/login', auth: false, phi: false, body: LoginRequestSchema, response: TokenResponseSchema },
  refresh: { method: 'POST', path: '/v1/auth/refresh', auth: false, phi: false, body: RefreshRequestSchema, response: TokenResponseSchema },
  logout: { method: 'POST', path: '/v1/auth/logout', auth: true, phi: false, body: LogoutRequestSchema, response: OkResponseSchema },
  me: { method: 'GET', path: '/v1/me', auth: true, phi: false, response: MeResponseSchema },
  enroll: { method: 'POST', path: '/v1/devices/enroll', auth: false, phi: false, body: EnrollRequestSchema, response: EnrollResponseSchema },
  push: { method: 'POST', path: '/v1/sync/push', auth: true, phi: true, body: PushRequestSchema, response: PushResponseSchema },
  pull: { method: 'GET', path: '/v1/sync/pull', auth: true, phi: true, query: PullQuerySchema, response: PullResponseSchema },
  wrapKey: { method: 'POST', path: '/v1/keys/wrap', auth: true, phi: true, body: WrapKeyRequestSchema, response: WrapKeyResponseSchema },
  unwrapKey: { method: 'POST', path: '/v1/keys/unwrap', auth: true, phi: true, body: UnwrapKeyRequestSchema, response: UnwrapKeyResponseSchema },
  unwrapKeysBatch: { method: 'POST', path: '/v1/keys/unwrap-batch', auth: true, phi: true, body: UnwrapKeysBatchRequestSchema, response: UnwrapKeysBatchResponseSchema },
  auditIngest: { method: 'POST', path: '/v1/audit', auth: true, phi: true, body: AuditIngestRequestSchema, response: AuditIngestResponseSchema },
  breakGlass: { method: 'POST', path: '/v1/break-glass', auth: true, phi: true, body: BreakGlassRequestSchema, response: BreakGlassResponseSchema },
  breakGlassJustification: { method: 'POST', path: '/v1/break-glass/justification', auth: true, phi: true, body: OfflineJustificationRequestSchema, response: OfflineJustificationResponseSchema },
  // admin
  issueEnrollmentCode: { method: 'POST', path: '/v1/admin/devices/enrollment-codes', auth: true, phi: false, body: EnrollmentCodeRequestSchema, response: EnrollmentCodeResponseSchema },
  listDevices: { method: 'GET', path: '/v1/admin/devices', auth: true, phi: false, response: DeviceListResponseSchema },
  revokeDevice: { method: 'POST', path: '/v1/admin/devices/:deviceId/revoke', auth: true, phi: false, body: EmptySchema, response: DeviceSchema },
  listUsers: { method: 'GET', path: '/v1/admin/users', auth: true, phi: false, response: UserListResponseSchema },
  createUser: { method: 'POST', path: '/v1/admin/users', auth: true, phi: false, body: CreateUserRequestSchema, response: AdminUserSchema },
  setRoles: { method: 'PUT', path: '/v1/admin/users/:userId/roles', auth: true, phi: false, body: SetRolesRequestSchema, response: AdminUserSchema },
  reinstateUser: { method: 'POST', path: '/v1/admin/users/:userId/reinstate', auth: true, phi: false, body: ReinstateRequestSchema, response: AdminUserSchema },
  listCareTeams: { method: 'GET', path: '/v1/admin/care-teams', auth: true, phi: false, response: CareTeamListResponseSchema },
  putCareTeam: { method: 'PUT', path: '/v1/admin/care-teams/:teamId', auth: true, phi: true, body: CareTeamSchema, response: OkResponseSchema },
  setRestricted: { method: 'PUT', path: '/v1/admin/patients/:patientId/restricted', auth: true, phi: true, body: SetRestrictedRequestSchema, response: OkResponseSchema },
  // privacy officer
  auditQuery: { method: 'GET', path: '/v1/privacy/audit', auth: true, phi: true, query: AuditQuerySchema, response: AuditQueryResponseSchema },
  auditExport: { method: 'GET', path: '/v1/privacy/audit/fhir', auth: true, phi: true, query: AuditQuerySchema, response: AuditBundleSchema },
  listAlerts: { method: 'GET', path: '/v1/privacy/alerts', auth: true, phi: true, query: AlertListQuerySchema, response: AlertListResponseSchema },
  ackAlert: { method: 'POST', path: '/v1/privacy/alerts/:alertId/ack', auth: true, phi: true, body: ReviewNoteRequestSchema, response: AlertSchema },
  listBreakGlass: { method: 'GET', path: '/v1/privacy/break-glass', auth: true, phi: true, response: BreakGlassListResponseSchema },
  reviewBreakGlass: { method: 'POST', path: '/v1/privacy/break-glass/:grantId/review', auth: true, phi: true, body: ReviewNoteRequestSchema, response: BreakGlassReviewSchema },
  // privacy officer: the clinic-wide review queue (src-shared/sync/privacy.ts)
  reviewQueue: { method: 'GET', path: '/v1/privacy/queue', auth: true, phi: true, query: ReviewQueueQuerySchema, response: ReviewQueueResponseSchema },
  reviewEpisode: { method: 'GET', path: '/v1/privacy/queue/:subject/:id', auth: true, phi: true, response: ReviewEpisodeResponseSchema },
  reviewEpisodeFhir: { method: 'GET', path: '/v1/privacy/queue/:subject/:id/fhir', auth: true, phi: true, response: AuditBundleSchema },
  addDisposition: { method: 'POST', path: '/v1/privacy/reviews', auth: true, phi: true, body: DispositionRequestSchema, response: ReviewItemSchema },
  suspendUser: { method: 'POST', path: '/v1/admin/users/:userId/suspend', auth: true, phi: false, body: SuspendRequestSchema, response: AdminUserSchema },
  // telemedicine (src-shared/sync/visits.ts; the signalling sockets are not JSON routes and live there)
  startVisit: { method: 'POST', path: '/v1/visits', auth: true, phi: true, body: StartVisitRequestSchema, response: VisitSchema },
  createVisitLink: { method: 'POST', path: '/v1/visits/:visitId/link', auth: true, phi: true, body: CreateVisitLinkRequestSchema, response: VisitLinkSchema },
  revokeVisitLink: { method: 'POST', path: '/v1/visits/:visitId/link/revoke', auth: true, phi: true, body: EmptySchema, response: OkResponseSchema },
  visitConsent: { method: 'POST', path: '/v1/visits/:visitId/consent', auth: true, phi: true, body: VisitConsentRequestSchema, response: VisitSchema },
  endVisit: { method: 'POST', path: '/v1/visits/:visitId/end', auth: true, phi: true, body: EmptySchema, response: VisitSchema },
  iceServers: { method: 'GET', path: '/v1/visits/ice', auth: true, phi: false, response: IceServersResponseSchema },
  startRecording: { method: 'POST', path: '/v1/visits/:visitId/recordings', auth: true, phi: true, body: StartRecordingRequestSchema, response: RecordingSchema },
  putRecordingChunk: { method: 'PUT', path: '/v1/recordings/:recordingId/chunks/:seq', auth: true, phi: true, body: PutChunkRequestSchema, response: OkResponseSchema },
  finishRecording: { method: 'POST', path: '/v1/recordings/:recordingId/finish', auth: true, phi: true, body: FinishRecordingRequestSchema, response: RecordingSchema },
  listRecordings: { method: 'GET', path: '/v1/patients/:patientId/recordings', auth: true, phi: true, response: RecordingListResponseSchema },
  recordingChunks: { method: 'GET', path: '/v1/recordings/:recordingId/chunks', auth: true, phi: true, query: ChunkQuerySchema, response: ChunkPageSchema },
  deleteRecording: { method: 'POST', path: '/v1/recordings/:recordingId/delete', auth: true, phi: true, body: DeleteRecordingRequestSchema, response: RecordingSchema },
  recordingAccess: { method: 'GET', path: '/v1/privacy/recording-access', auth: true, phi: true, query: RecordingAccessQuerySchema, response: RecordingAccessResponseSchema },
} as const satisfies Record<string, RouteDef>;
export type RouteName = keyof typeof ROUTES;
