/** Device enrollment: an admin issues a one-time code; the workstation registers its id and Ed25519 key. */
import { z } from 'zod';
import { B64uSchema, IdSchema, IsoDateTimeSchema } from './common';

/** POST /v1/admin/devices/enrollment-codes (admin) */
export const EnrollmentCodeRequestSchema = z.object({ ttlMinutes: z.number().int().min(1).max(7 * 24 * 60).optional() }).strict();
export const EnrollmentCodeResponseSchema = z.object({ code: z.string(), expiresAt: IsoDateTimeSchema }).strict();
export type EnrollmentCodeResponse = z.infer<typeof EnrollmentCodeResponseSchema>;

/**
 * POST /v1/devices/enroll (no bearer: the one-time code is the credential).
 * publicKey: the device's Ed25519 public key, base64url of its SPKI DER (44 bytes) or of the raw 32 bytes.
 */
export const EnrollRequestSchema = z
  .object({
    code: z.string().min(8).max(64),
    deviceId: IdSchema,
    publicKey: B64uSchema.min(43).max(120),
    name: z.string().max(100).optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;
export const DeviceSchema = z
  .object({
    deviceId: IdSchema,
    name: z.string().nullable(),
    enrolledAt: IsoDateTimeSchema,
    revokedAt: IsoDateTimeSchema.nullable(),
  })
  .strict();
export type Device = z.infer<typeof DeviceSchema>;
export const EnrollResponseSchema = DeviceSchema;
