/**
 * From the raw machine policy (+ the user's own settings) to the effective Policy the core runs on.
 * Precedence: IT policy wins. A user setting may only make a setting stricter (a shorter lock
 * timeout, a shorter offline-login window); anything else the user file says is ignored and reported.
 * An invalid policy, or none at all, is an EhrError whose message lists every offending field: the
 * shell shows it and stops.
 */
import { z } from 'zod';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { PolicySchema, type Policy } from '../../../src-shared/policy';
import type { RawPolicy } from './read';

/** The fields of a user's settings that may tighten policy, and in which direction. */
const TIGHTENABLE = {
  lockTimeoutMinutes: 'lower',
  offlineLoginDays: 'lower',
} as const satisfies Partial<Record<keyof Policy, 'lower'>>;
type Tightenable = keyof typeof TIGHTENABLE;

export interface EffectivePolicy {
  policy: Policy;
  source: string;
  /** User settings that were not applied (not tightenable, invalid, or looser than policy). Names only. */
  ignoredUserSettings: string[];
}

/** "serverUrl: Invalid URL; lockTimeoutMinutes: Too big: expected number to be <=15" (field names, no values). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const field = i.path.length ? i.path.join('.') : '(policy)';
      return `${field}: ${i.message}`;
    })
    .join('; ');
}

export function validatePolicy(raw: RawPolicy | null, location: string): { policy: Policy; source: string } {
  if (!raw) {
    throw new EhrError(
      ErrorCode.INVALID,
      `No IT policy is installed on this workstation (expected at ${location}). IT must install one before the app can start (see docs/it-admin.md).`,
    );
  }
  const parsed = PolicySchema.safeParse(raw.values);
  if (!parsed.success) {
    throw new EhrError(
      ErrorCode.INVALID,
      `The IT policy at ${raw.source} is invalid: ${describeIssues(parsed.error)}. The app cannot start until IT corrects it (see docs/it-admin.md).`,
      { source: raw.source, issues: parsed.error.issues.length },
    );
  }
  return { policy: parsed.data, source: raw.source };
}

/** Applies user settings on top of the validated policy, only where they are stricter. */
export function applyUserSettings(policy: Policy, settings: unknown): { policy: Policy; ignored: string[] } {
  const ignored: string[] = [];
  const effective: Policy = { ...policy };
  if (settings === null || settings === undefined) return { policy: effective, ignored };
  if (typeof settings !== 'object' || Array.isArray(settings)) return { policy: effective, ignored: ['(settings)'] };
  for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
    if (!Object.prototype.hasOwnProperty.call(TIGHTENABLE, key)) {
      ignored.push(key);
      continue;
    }
    const k = key as Tightenable;
    const current = effective[k];
    // Must be a value the policy itself would accept, and strictly tighter than it.
    const check = PolicySchema.shape[k].safeParse(value);
    if (!check.success || typeof value !== 'number' || value >= current) {
      ignored.push(key);
      continue;
    }
    effective[k] = value;
  }
  return { policy: effective, ignored };
}

export function resolveEffectivePolicy(raw: RawPolicy | null, location: string, userSettings?: unknown): EffectivePolicy {
  const { policy, source } = validatePolicy(raw, location);
  const { policy: effective, ignored } = applyUserSettings(policy, userSettings);
  return { policy: Object.freeze(effective), source, ignoredUserSettings: ignored };
}
