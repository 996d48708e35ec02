/**
 * The machine-wide IT policy: read from the OS's managed place, validated against
 * src-shared/policy.ts, tightened (never loosened) by the user's own settings.
 */
import { policyLocation } from './locations';
import { readMachinePolicy, type PolicyReaderDeps } from './read';
import { resolveEffectivePolicy, type EffectivePolicy } from './resolve';

export { POLICY_LOCATIONS, DEV_POLICY_ENV, policyLocation } from './locations';
export { readMachinePolicy, type PolicyReaderDeps, type RawPolicy } from './read';
export { resolveEffectivePolicy, validatePolicy, applyUserSettings, describeIssues, type EffectivePolicy } from './resolve';
export { parseRegQuery } from './windows-registry';

/** Reads, validates and applies user settings; throws an EhrError (INVALID) the shell shows before quitting. */
export async function loadPolicy(deps: PolicyReaderDeps & { userSettings?: unknown }): Promise<EffectivePolicy> {
  const raw = await readMachinePolicy(deps);
  return resolveEffectivePolicy(raw, policyLocation(deps.platform), deps.userSettings);
}
