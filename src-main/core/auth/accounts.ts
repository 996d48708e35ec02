/**
 * The users this workstation may let in offline: one cached account per user who logged in online
 * here (Argon2id verifier, roles, the care-team snapshot from /v1/me), with its local failure count.
 * Kept in the vault (encrypted). This interface is what the authenticator needs; vault-accounts.ts
 * adapts the vault's `verifiers` + `kv` repositories to it.
 */
import type { CareTeamSnapshot, Role } from '../../../src-shared/access';

export interface CachedAccount {
  userId: string;
  username: string;
  displayName: string;
  /** Argon2id PHC string. */
  hash: string;
  roles: Role[];
  lastOnlineLoginAt: number;
  failedCount: number;
  lockedUntil: number | null;
}

export interface AccountStore {
  byUsername(username: string): CachedAccount | null;
  byId(userId: string): CachedAccount | null;
  /** Saves after an online login (failures reset). */
  save(account: Omit<CachedAccount, 'failedCount' | 'lockedUntil'>): void;
  /** Counts one failure; `lockedUntil` when this failure reaches the policy's limit. */
  recordFailure(userId: string, lockedUntil: number | null): void;
  resetFailures(userId: string): void;
  remove(userId: string): boolean;
  list(): CachedAccount[];
  careTeam(userId: string): CareTeamSnapshot | null;
  saveCareTeam(userId: string, snapshot: CareTeamSnapshot): void;
}

/** For unit tests of the authenticator alone. */
export function createMemoryAccountStore(): AccountStore {
  const accounts = new Map<string, CachedAccount>();
  const teams = new Map<string, CareTeamSnapshot>();
  return {
    byUsername: (u) => [...accounts.values()].find((a) => a.username.toLowerCase() === u.toLowerCase()) ?? null,
    byId: (id) => accounts.get(id) ?? null,
    save: (a) => void accounts.set(a.userId, { ...a, failedCount: 0, lockedUntil: null }),
    recordFailure(id, lockedUntil) {
      const a = accounts.get(id);
      if (a) accounts.set(id, { ...a, failedCount: a.failedCount + 1, lockedUntil: lockedUntil ?? a.lockedUntil });
    },
    resetFailures(id) {
      const a = accounts.get(id);
      if (a) accounts.set(id, { ...a, failedCount: 0, lockedUntil: null });
    },
    remove: (id) => accounts.delete(id),
    list: () => [...accounts.values()],
    careTeam: (id) => teams.get(id) ?? null,
    saveCareTeam: (id, s) => void teams.set(id, s),
  };
}
