/**
 * The machine-wide IT policy: what an administrator sets for every workstation, which user
 * settings can never override. Read by the Electron shell from the platform's managed place
 * (src-main/core/policy), validated here, consumed by the session core and the sync engine.
 */
import { z } from 'zod';

/** FHIR v3 ActReason codes a break-glass request may carry (IT may narrow the list). */
export const BREAK_GLASS_REASONS = ['ETREAT', 'BTG', 'ERTREAT', 'CLINTRCH', 'PATRQT', 'TREAT'] as const;
export type BreakGlassReason = (typeof BREAK_GLASS_REASONS)[number];

export const MAX_LOCK_TIMEOUT_MINUTES = 15;

export const PolicySchema = z
  .object({
    /** The sync server, https only. */
    serverUrl: z.url({ protocol: /^https$/ }),
    /** SHA-256 fingerprint of the server's certificate (hex, colons optional), pinned by the client. */
    serverCertFingerprint: z
      .string()
      .transform((s) => s.replace(/:/g, '').toLowerCase())
      .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 fingerprint (64 hex digits)')),
    /** Inactivity lock; IT may lower it, never raise it above 15 minutes. */
    lockTimeoutMinutes: z.number().int().min(1).max(MAX_LOCK_TIMEOUT_MINUTES).default(MAX_LOCK_TIMEOUT_MINUTES),
    /** How long before the lock the warning shows. */
    lockWarningSeconds: z.number().int().min(10).max(300).default(60),
    /** How long after the last online login a user may still log in offline. 0 disables offline login. */
    offlineLoginDays: z.number().int().min(0).max(30).default(7),
    /** Failed logins before the account locks on this workstation. */
    maxFailedLogins: z.number().int().min(3).max(20).default(5),
    breakGlassMinutes: z.number().int().min(5).max(240).default(60),
    breakGlassReasons: z.array(z.enum(BREAK_GLASS_REASONS)).min(1).default(['ETREAT', 'BTG']),
    breakGlassMinJustificationChars: z.number().int().min(10).max(500).default(20),
    /**
     * Shared workstation: how many users' care-team scopes the vault keeps at once (the most recent
     * sign-ins within the offline-login window), so a colleague switching in needs no re-pull. Their
     * charts are cached together; every read is still checked per user. 1 = one user's scope only.
     */
    sharedWorkstationUsers: z.number().int().min(1).max(50).default(8),
    /** Telemedicine: false removes video visits from this workstation (no camera/microphone is ever asked for). */
    videoVisits: z.boolean().default(true),
    /** Telemedicine: false forbids recording a visit here, whatever the patient consents to. */
    visitRecording: z.boolean().default(true),
    /** Desktop shell: false stops the app's own update checks (IT deploys every version itself). Absent = on. */
    autoUpdate: z.boolean().optional(),
  })
  .strict();

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

/** Parse and validate; throws a ZodError naming the offending fields (no values echoed beyond the policy's own). */
export function parsePolicy(input: unknown): Policy {
  return PolicySchema.parse(input);
}
