/**
 * A KeyStore in a 0600 JSON file, ONLY for the crash test: the vault key must survive from one
 * killed child process to the next, and an in-memory store cannot. (Production uses the OS keychain.)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { KeyStore } from '../../../src-main/core/keychain';

export function createFileKeyStore(file: string): KeyStore {
  const read = (): Record<string, string> => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {});
  const write = (all: Record<string, string>): void => {
    writeFileSync(`${file}.tmp`, JSON.stringify(all), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  };
  return {
    async get(account) {
      const v = read()[account];
      return v === undefined ? null : Buffer.from(v, 'base64');
    },
    async set(account, secret) {
      write({ ...read(), [account]: secret.toString('base64') });
    },
    async delete(account) {
      const all = read();
      if (!(account in all)) return false;
      delete all[account];
      write(all);
      return true;
    },
  };
}
