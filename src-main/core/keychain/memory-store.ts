/**
 * An in-memory KeyStore for other areas' tests (and nothing else: it forgets everything on exit).
 * `unavailable` simulates a keychain that cannot be reached, so callers can test that path too.
 */
import { KeychainUnavailableError } from './errors';
import type { KeyStore } from './key-store';

export interface MemoryKeyStore extends KeyStore {
  /** When true every call fails with KeychainUnavailableError, like a locked or absent keychain. */
  unavailable: boolean;
  /** Accounts currently held (names only). */
  accounts(): string[];
}

export function createMemoryKeyStore(initial: Record<string, Buffer> = {}): MemoryKeyStore {
  const entries = new Map<string, Buffer>(Object.entries(initial).map(([k, v]) => [k, Buffer.from(v)]));
  const store: MemoryKeyStore = {
    unavailable: false,
    accounts: () => [...entries.keys()],
    async get(account) {
      if (store.unavailable) throw new KeychainUnavailableError('get');
      const v = entries.get(account);
      return v ? Buffer.from(v) : null;
    },
    async set(account, secret) {
      if (store.unavailable) throw new KeychainUnavailableError('set');
      entries.set(account, Buffer.from(secret));
    },
    async delete(account) {
      if (store.unavailable) throw new KeychainUnavailableError('delete');
      return entries.delete(account);
    },
  };
  return store;
}
