/**
 * A shared workstation keeps the care-team patients of the users who sign in there, not only of the
 * one syncing now, so "Switch user" needs no re-pull and works offline. This says which patients
 * the OTHER users hold: those with a session open here now, and those whose last online sign-in is
 * within the offline-login window (they could sign in offline), the most recent first, up to the IT
 * policy's `sharedWorkstationUsers` (the syncing user counts as one). Holding a chart is not seeing
 * it: every read is still decided for the user in front by the shared evaluator.
 */
import type { Policy } from '../../../src-shared/policy';
import type { AccountStore } from '../auth/accounts';
import type { SessionManager } from './session-manager';

const DAY_MS = 24 * 60 * 60_000;

export interface SharedScopeDeps {
  accounts: Pick<AccountStore, 'list' | 'careTeam'>;
  sessions: Pick<SessionManager, 'sessionOf'>;
  policy: Pick<Policy, 'sharedWorkstationUsers' | 'offlineLoginDays'>;
  now: number;
}

/** The users (ids) whose patients stay besides the syncing user's, most recent sign-in first. */
export function sharedWorkstationUsers(deps: SharedScopeDeps, syncingUserId: string): string[] {
  const windowMs = deps.policy.offlineLoginDays * DAY_MS;
  return deps.accounts
    .list()
    .filter((a) => a.userId !== syncingUserId)
    .filter((a) => deps.sessions.sessionOf(a.userId) !== null || deps.now - a.lastOnlineLoginAt <= windowMs)
    .sort((a, b) => b.lastOnlineLoginAt - a.lastOnlineLoginAt || a.userId.localeCompare(b.userId))
    .slice(0, Math.max(0, deps.policy.sharedWorkstationUsers - 1))
    .map((a) => a.userId);
}

/** The patients those users hold by care team (ids only), for the sync engine's reconcile. */
export function sharedWorkstationScope(deps: SharedScopeDeps, syncingUserId: string): string[] {
  const out = new Set<string>();
  for (const userId of sharedWorkstationUsers(deps, syncingUserId)) {
    const snapshot = deps.accounts.careTeam(userId);
    for (const p of snapshot?.careTeam ?? []) out.add(p);
    for (const p of snapshot?.grants ?? []) out.add(p);
  }
  return [...out];
}
