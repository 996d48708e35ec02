/**
 * The part of the IT policy the session core uses, with the policy's own defaults. The shell hands
 * over the full validated policy; tests hand over only what they change.
 */
import { PolicySchema, type Policy } from '../../../src-shared/policy';

const SESSION_KEYS = [
  'lockTimeoutMinutes',
  'lockWarningSeconds',
  'offlineLoginDays',
  'maxFailedLogins',
  'breakGlassMinutes',
  'breakGlassReasons',
  'breakGlassMinJustificationChars',
  'sharedWorkstationUsers',
  // Telemedicine switches: the session status carries them and the visit handlers enforce them.
  'videoVisits',
  'visitRecording',
] as const;

export type SessionPolicy = Pick<Policy, (typeof SESSION_KEYS)[number]>;

const SessionPolicySchema = PolicySchema.pick({
  lockTimeoutMinutes: true,
  lockWarningSeconds: true,
  offlineLoginDays: true,
  maxFailedLogins: true,
  breakGlassMinutes: true,
  breakGlassReasons: true,
  breakGlassMinJustificationChars: true,
  sharedWorkstationUsers: true,
  videoVisits: true,
  visitRecording: true,
});

/** Validates with the policy's bounds (a lock timeout above 15 minutes is refused, never used). */
export function sessionPolicy(input: Partial<Policy> = {}): SessionPolicy {
  const picked: Record<string, unknown> = {};
  for (const k of SESSION_KEYS) if (input[k] !== undefined) picked[k] = input[k];
  return SessionPolicySchema.parse(picked);
}
