/** Break-glass: time-limited access to one patient outside the care team, with a coded reason. */
import { z } from 'zod';
import { BREAK_GLASS_REASONS } from '../policy';
import { IdSchema } from './common';
import { BreakGlassGrantSchema, PasswordSchema } from './auth';

/**
 * POST /v1/break-glass (header x-audit-correlation-id). The password is re-entered and checked.
 * Raises a privacy-officer alert (high severity for a restricted patient). Justification is
 * free text the clinician writes for the privacy officer; it is stored, never logged.
 */
export const BreakGlassRequestSchema = z
  .object({
    patientId: IdSchema,
    reason: z.enum(BREAK_GLASS_REASONS),
    justification: z.string().min(10).max(1000),
    password: PasswordSchema,
    minutes: z.number().int().min(5).max(240).optional(),
  })
  .strict();
export type BreakGlassRequest = z.infer<typeof BreakGlassRequestSchema>;
export const BreakGlassResponseSchema = z.object({ grant: BreakGlassGrantSchema }).strict();
export type BreakGlassResponse = z.infer<typeof BreakGlassResponseSchema>;
