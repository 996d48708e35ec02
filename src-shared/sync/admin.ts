/** Admin (users, roles, care teams, devices) and privacy-officer (alerts, break-glass review) routes. */
import { z } from 'zod';
import { IdSchema, Int8Schema, IsoDateTimeSchema, RoleSchema } from './common';
import { PasswordSchema, UsernameSchema, UserSchema } from './auth';

export const UserStatusSchema = z.enum(['active', 'locked', 'suspended', 'disabled']);
export const AdminUserSchema = UserSchema.extend({
  status: UserStatusSchema,
  statusReason: z.string().nullable(),
}).strict();
export type AdminUser = z.infer<typeof AdminUserSchema>;

/** GET /v1/admin/users */
export const UserListResponseSchema = z.object({ users: z.array(AdminUserSchema) }).strict();
/** POST /v1/admin/users */
export const CreateUserRequestSchema = z
  .object({
    username: UsernameSchema.regex(/^[a-z0-9._-]+$/),
    displayName: z.string().min(1).max(100),
    password: PasswordSchema.min(12),
    roles: z.array(RoleSchema).min(1),
  })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;
/** PUT /v1/admin/users/:userId/roles */
export const SetRolesRequestSchema = z.object({ roles: z.array(RoleSchema).min(1) }).strict();
/** POST /v1/admin/users/:userId/reinstate — lifts a lockout or an access-rate suspension, with a note. */
export const ReinstateRequestSchema = z.object({ note: z.string().min(1).max(1000) }).strict();

/** PUT /v1/admin/care-teams/:teamId — replaces the team's members and patients. */
export const CareTeamSchema = z
  .object({
    name: z.string().min(1).max(100),
    userIds: z.array(IdSchema).max(1000),
    patientIds: z.array(IdSchema).max(100_000),
  })
  .strict();
export type CareTeam = z.infer<typeof CareTeamSchema>;
export const CareTeamListResponseSchema = z
  .object({ teams: z.array(CareTeamSchema.extend({ id: IdSchema }).strict()) })
  .strict();

/** PUT /v1/admin/patients/:patientId/restricted { restricted } */
export const SetRestrictedRequestSchema = z.object({ restricted: z.boolean() }).strict();

export const AlertSchema = z
  .object({
    id: IdSchema,
    /** audit-chain-refused, device-report-refused, late-audit-report: raised against a device (detail.deviceId), never a named user. */
    kind: z.enum(['break-glass', 'access-rate', 'plaintext-refused', 'audit-chain-refused', 'device-report-refused', 'late-audit-report', 'audit-quarantined']),
    severity: z.enum(['medium', 'high']),
    userId: IdSchema.nullable(),
    patientId: IdSchema.nullable(),
    /** ids and counts only */
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
    createdAt: IsoDateTimeSchema,
    acknowledgedAt: IsoDateTimeSchema.nullable(),
    acknowledgedBy: IdSchema.nullable(),
    note: z.string().nullable(),
  })
  .strict();
export type Alert = z.infer<typeof AlertSchema>;
/** GET /v1/privacy/alerts?open=true */
export const AlertListQuerySchema = z.object({ open: z.enum(['true', 'false']).optional() }).strict();
export const AlertListResponseSchema = z.object({ alerts: z.array(AlertSchema) }).strict();
/** POST /v1/privacy/alerts/:alertId/ack and POST /v1/privacy/break-glass/:grantId/review */
export const ReviewNoteRequestSchema = z.object({ note: z.string().min(1).max(2000) }).strict();

export const BreakGlassReviewSchema = z
  .object({
    id: IdSchema,
    patientId: IdSchema,
    userId: IdSchema,
    reason: z.string(),
    justification: z.string(),
    startsAt: IsoDateTimeSchema,
    expiresAt: IsoDateTimeSchema,
    reviewedAt: IsoDateTimeSchema.nullable(),
    reviewedBy: IdSchema.nullable(),
    reviewNote: z.string().nullable(),
  })
  .strict();
/**
 * A break-glass granted on a workstation while OFFLINE: its alert (raised at audit ingest) with the
 * justification the workstation delivered afterwards (null until it arrives). Reviewed through the
 * alert: POST /v1/privacy/alerts/:alertId/ack.
 */
export const OfflineBreakGlassReviewSchema = z
  .object({
    /** null when audit ingest matched the entry to an online grant (that grant carries its own alert). */
    alertId: IdSchema.nullable(),
    deviceId: IdSchema,
    seq: Int8Schema,
    correlationId: z.string().nullable(),
    patientId: IdSchema.nullable(),
    userId: IdSchema.nullable(),
    reason: z.string(),
    severity: z.enum(['medium', 'high']).nullable(),
    justification: z.string().nullable(),
    justificationReceivedAt: IsoDateTimeSchema.nullable(),
    startedAt: IsoDateTimeSchema.nullable(),
    endedAt: IsoDateTimeSchema.nullable(),
    reviewedAt: IsoDateTimeSchema.nullable(),
    reviewedBy: IdSchema.nullable(),
    reviewNote: z.string().nullable(),
  })
  .strict();
export type OfflineBreakGlassReview = z.infer<typeof OfflineBreakGlassReviewSchema>;
/** GET /v1/privacy/break-glass: online grants, and (additive) offline grants with their delivered justification. */
export const BreakGlassListResponseSchema = z
  .object({ grants: z.array(BreakGlassReviewSchema), offline: z.array(OfflineBreakGlassReviewSchema).optional() })
  .strict();
