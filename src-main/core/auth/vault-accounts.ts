/**
 * The AccountStore on the vault: verifiers (Argon2id hash, roles, failures) in the vault's
 * `verifiers` table, the care-team snapshot in its `kv` under `careteam:<userId>`.
 */
import type { CareTeamSnapshot, Role } from '../../../src-shared/access';
import { isRole } from '../../../src-shared/access';
import type { Vault } from '../vault';
import type { AccountStore, CachedAccount } from './accounts';

type VerifierRow = NonNullable<ReturnType<Vault['verifiers']['getById']>>;

const careTeamKey = (userId: string) => `careteam:${userId}`;
const ms = (iso: string | null): number | null => (iso ? Date.parse(iso) : null);

function toAccount(v: VerifierRow): CachedAccount {
  return {
    userId: v.userId,
    username: v.username,
    displayName: v.displayName ?? v.username,
    hash: v.hash,
    roles: v.roles.filter(isRole) as Role[],
    lastOnlineLoginAt: ms(v.lastOnlineLoginAt) ?? 0,
    failedCount: v.failedCount,
    lockedUntil: ms(v.lockedUntil),
  };
}

export function createVaultAccountStore(vault: Vault): AccountStore {
  const listIds = vault.db.prepare<[], { user_id: string }>('SELECT user_id FROM verifiers ORDER BY username');
  return {
    byUsername(username) {
      const v = vault.verifiers.getByUsername(username);
      return v ? toAccount(v) : null;
    },
    byId(userId) {
      const v = vault.verifiers.getById(userId);
      return v ? toAccount(v) : null;
    },
    save(a) {
      vault.verifiers.upsert({
        userId: a.userId,
        username: a.username,
        displayName: a.displayName,
        hash: a.hash,
        roles: a.roles,
        lastOnlineLoginAt: new Date(a.lastOnlineLoginAt).toISOString(),
      });
    },
    recordFailure(userId, lockedUntil) {
      vault.verifiers.recordFailure(userId, lockedUntil === null ? null : new Date(lockedUntil).toISOString());
    },
    resetFailures(userId) {
      vault.verifiers.resetFailures(userId);
    },
    remove(userId) {
      vault.kv.delete(careTeamKey(userId));
      return vault.verifiers.delete(userId);
    },
    list() {
      return listIds
        .all()
        .map((r) => vault.verifiers.getById(r.user_id))
        .filter((v): v is VerifierRow => v !== null)
        .map(toAccount);
    },
    careTeam(userId) {
      return vault.kv.getJson<CareTeamSnapshot>(careTeamKey(userId));
    },
    saveCareTeam(userId, snapshot) {
      vault.kv.setJson(careTeamKey(userId), snapshot);
    },
  };
}
