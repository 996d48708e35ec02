/** Break-glass: time-limited access to one patient outside the care team, with a coded reason. */
import { z } from 'zod';
import { BREAK_GLASS_REASONS } from '../policy';
import { CorrelationIdSchema, IdSchema, Int8Schema } from './common';
import { BreakGlassGrantSchema, PasswordSchema } from './auth';

/** The clinician's free text for the privacy officer: the same rules online and offline. */
export const JustificationSchema = z.string().min(10).max(1000);

/**
 * POST /v1/break-glass (header x-audit-correlation-id). The password is re-entered and checked.
 * Raises a privacy-officer alert (high severity for a restricted patient). Justification is
 * free text the clinician writes for the privacy officer; it is stored, never logged.
 */
export const BreakGlassRequestSchema = z
  .object({
    patientId: IdSchema,
    reason: z.enum(BREAK_GLASS_REASONS),
    justification: JustificationSchema,
    password: PasswordSchema,
    minutes: z.number().int().min(5).max(240).optional(),
  })
  .strict();
export type BreakGlassRequest = z.infer<typeof BreakGlassRequestSchema>;
export const BreakGlassResponseSchema = z.object({ grant: BreakGlassGrantSchema }).strict();
export type BreakGlassResponse = z.infer<typeof BreakGlassResponseSchema>;

/**
 * POST /v1/break-glass/justification (header x-audit-correlation-id): the free-text justification
 * of a break-glass the workstation granted OFFLINE, sent once the device's `break-glass-start`
 * audit entry has been ingested. The entry is named by this device's id and its chain seq (the
 * primary key of the ingested chain); the server also checks that the entry is a successful
 * break-glass-start of the caller, for this patient, with this correlation id and reason. The
 * text is sealed at rest with the server's notes key and shown only in the privacy review.
 * Idempotent: the same text again answers `already-stored`; a different text is 409 CONFLICT.
 */
export const OfflineJustificationRequestSchema = z
  .object({
    patientId: IdSchema,
    /** Must be the caller's own device (the token's). */
    deviceId: IdSchema,
    /** The `break-glass-start` entry's seq in this device's audit chain. */
    seq: Int8Schema.min(1),
    /** The entry's correlation id (a consistency check against the ingested entry). */
    correlationId: CorrelationIdSchema.or(IdSchema),
    reason: z.enum(BREAK_GLASS_REASONS),
    justification: JustificationSchema,
  })
  .strict();
export type OfflineJustificationRequest = z.infer<typeof OfflineJustificationRequestSchema>;
export const OfflineJustificationResponseSchema = z
  .object({
    status: z.enum(['stored', 'already-stored']),
    /** The privacy-officer alert the text is attached to; null when ingest matched the entry to an online grant. */
    alertId: IdSchema.nullable(),
  })
  .strict();
export type OfflineJustificationResponse = z.infer<typeof OfflineJustificationResponseSchema>;
/**
 * `detail.problem` of a refused delivery. `not-ingested` (404) is worth retrying after the next
 * audit push; every other problem is a refusal the workstation keeps and surfaces.
 */
export const OFFLINE_JUSTIFICATION_PROBLEMS = ['not-ingested', 'device', 'user', 'entry', 'patient', 'correlation', 'reason', 'different-text'] as const;
export type OfflineJustificationProblem = (typeof OFFLINE_JUSTIFICATION_PROBLEMS)[number];
