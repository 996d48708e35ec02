/**
 * KeyStore over keytar: macOS Keychain, Windows Credential Vault, Linux Secret Service.
 * keytar stores strings, so secrets travel as base64. Every keytar failure (no D-Bus, no Secret
 * Service, a locked collection, a denied prompt) becomes KeychainUnavailableError: callers must
 * never mistake "keychain unreachable" for "no key yet", or they would create a second key.
 */
import keytar from 'keytar';
import { KeychainUnavailableError } from './errors';
import type { KeyStore } from './key-store';

/** Keytar calls that hang (a Secret Service that never answers) fail after this long. */
const KEYCHAIN_TIMEOUT_MS = 10_000;

async function guarded<T>(operation: 'get' | 'set' | 'delete', call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeychainUnavailableError(operation)), KEYCHAIN_TIMEOUT_MS);
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (e) {
    if (e instanceof KeychainUnavailableError) throw e;
    // The native message may name the service or a D-Bus path; it is dropped, not forwarded.
    throw new KeychainUnavailableError(operation);
  } finally {
    clearTimeout(timer);
  }
}

export function createKeytarKeyStore(service = 'clinic-ehr'): KeyStore {
  return {
    async get(account) {
      const stored = await guarded('get', () => keytar.getPassword(service, account));
      return stored === null ? null : Buffer.from(stored, 'base64');
    },
    async set(account, secret) {
      await guarded('set', () => keytar.setPassword(service, account, secret.toString('base64')));
    },
    async delete(account) {
      return guarded('delete', () => keytar.deletePassword(service, account));
    },
  };
}
