/** Authentication: login, refresh (rotating, family reuse detection), logout, and who am I. */
import { z } from 'zod';
import { IdSchema, IsoDateTimeSchema, RoleSchema } from './common';

export const UserSchema = z
  .object({
    id: IdSchema,
    username: z.string(),
    displayName: z.string(),
    roles: z.array(RoleSchema),
  })
  .strict();
export type User = z.infer<typeof UserSchema>;

export const UsernameSchema = z.string().min(1).max(64);
export const PasswordSchema = z.string().min(1).max(256);

/** POST /v1/auth/login — the device must be enrolled and not revoked. */
export const LoginRequestSchema = z
  .object({ username: UsernameSchema, password: PasswordSchema, deviceId: IdSchema })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/** Answer of login and refresh. Access token ≤ 15 min (JWT with jti); refresh token is opaque and single-use. */
export const TokenResponseSchema = z
  .object({
    accessToken: z.string(),
    accessExpiresAt: IsoDateTimeSchema,
    refreshToken: z.string(),
    refreshExpiresAt: IsoDateTimeSchema,
    user: UserSchema,
  })
  .strict();
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** POST /v1/auth/refresh — presenting an already-used refresh token revokes its whole family. */
export const RefreshRequestSchema = z.object({ refreshToken: z.string().min(16).max(512), deviceId: IdSchema }).strict();
export type RefreshRequest = z.infer<typeof RefreshRequestSchema>;

/** POST /v1/auth/logout — revokes the refresh family (bearer access token also required). */
export const LogoutRequestSchema = z.object({ refreshToken: z.string().min(16).max(512) }).strict();
export type LogoutRequest = z.infer<typeof LogoutRequestSchema>;
export const OkResponseSchema = z.object({ ok: z.literal(true) }).strict();
export type OkResponse = z.infer<typeof OkResponseSchema>;

export const BreakGlassGrantSchema = z
  .object({
    id: IdSchema,
    patientId: IdSchema,
    userId: IdSchema,
    reason: z.string(),
    startsAt: IsoDateTimeSchema,
    expiresAt: IsoDateTimeSchema,
  })
  .strict();
export type BreakGlassGrant = z.infer<typeof BreakGlassGrantSchema>;

/** GET /v1/me */
export const MeResponseSchema = z
  .object({
    user: UserSchema,
    /** Patients on this user's care teams. */
    careTeamPatientIds: z.array(IdSchema),
    /**
     * Restricted patients (VIP, staff) among those this user may hold — the care team and active
     * grants; never the organisation's whole list. The rule is the same for every patient —
     * care team or an active break-glass grant — but breaking the glass on a restricted patient
     * raises a high-severity alert, and the client shows the restriction.
     */
    restrictedPatientIds: z.array(IdSchema),
    breakGlassGrants: z.array(BreakGlassGrantSchema),
  })
  .strict();
export type MeResponse = z.infer<typeof MeResponseSchema>;
