/**
 * Which other users' patients a shared workstation keeps: open sessions, and recent sign-ins within
 * the offline window, most recent first, bounded by the IT policy's sharedWorkstationUsers.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryAccountStore } from '../../src-main/core/auth/accounts';
import { sharedWorkstationScope, sharedWorkstationUsers } from '../../src-main/core/session';
import { PolicySchema } from '../../src-shared/policy';

const DAY = 24 * 60 * 60_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');

function store(users: Array<{ id: string; daysAgo: number; careTeam: string[]; grants?: string[] }>) {
  const accounts = createMemoryAccountStore();
  for (const u of users) {
    accounts.save({ userId: u.id, username: u.id, displayName: u.id, hash: 'x', roles: ['nurse'], lastOnlineLoginAt: NOW - u.daysAgo * DAY });
    accounts.saveCareTeam(u.id, { careTeam: u.careTeam, restricted: [], grants: u.grants ?? [] });
  }
  return accounts;
}
const noSessions = { sessionOf: () => null };

describe('shared workstation scope', () => {
  it('defaults to 8 users; the policy refuses 0 and more than 50', () => {
    const base = { serverUrl: 'https://s.example', serverCertFingerprint: 'a'.repeat(64) };
    expect(PolicySchema.parse(base).sharedWorkstationUsers).toBe(8);
    expect(PolicySchema.safeParse({ ...base, sharedWorkstationUsers: 0 }).success).toBe(false);
    expect(PolicySchema.safeParse({ ...base, sharedWorkstationUsers: 51 }).success).toBe(false);
  });

  it("keeps the other users' care teams (and grants), never the syncing user's cached snapshot", () => {
    const accounts = store([
      { id: 'a', daysAgo: 0, careTeam: ['p1', 'p2'] },
      { id: 'b', daysAgo: 1, careTeam: ['p3'], grants: ['p9'] },
    ]);
    const deps = { accounts, sessions: noSessions, policy: { sharedWorkstationUsers: 8, offlineLoginDays: 7 }, now: NOW };
    expect(sharedWorkstationScope(deps, 'a').sort()).toEqual(['p3', 'p9']);
    expect(sharedWorkstationScope(deps, 'b').sort()).toEqual(['p1', 'p2']);
  });

  it('bounded by the policy: the most recent sign-ins first; outside the offline window only with a session open', () => {
    const accounts = store([
      { id: 'me', daysAgo: 0, careTeam: [] },
      { id: 'u1', daysAgo: 1, careTeam: ['p1'] },
      { id: 'u2', daysAgo: 2, careTeam: ['p2'] },
      { id: 'u3', daysAgo: 3, careTeam: ['p3'] },
      { id: 'old', daysAgo: 20, careTeam: ['p-old'] },
    ]);
    const policy = { sharedWorkstationUsers: 3, offlineLoginDays: 7 };
    expect(sharedWorkstationUsers({ accounts, sessions: noSessions, policy, now: NOW }, 'me')).toEqual(['u1', 'u2']);
    expect(sharedWorkstationUsers({ accounts, sessions: noSessions, policy: { ...policy, sharedWorkstationUsers: 1 }, now: NOW }, 'me')).toEqual([]);
    const wide = { ...policy, sharedWorkstationUsers: 50 };
    expect(sharedWorkstationUsers({ accounts, sessions: noSessions, policy: wide, now: NOW }, 'me')).toEqual(['u1', 'u2', 'u3']);
    const openSession = { sessionOf: (id: string) => (id === 'old' ? ({} as never) : null) };
    expect(sharedWorkstationUsers({ accounts, sessions: openSession, policy: wide, now: NOW }, 'me')).toEqual(['u1', 'u2', 'u3', 'old']);
  });
});
