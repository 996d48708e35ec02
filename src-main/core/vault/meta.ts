/**
 * vault.meta.json beside the database: the cipher it was created with and a key-check value.
 * The check value (HMAC of a fixed label under the vault key, truncated) lets us tell "wrong key"
 * from "damaged file" — SQLite reports both as SQLITE_NOTADB — without storing anything that
 * helps an attacker (a 128-bit HMAC tag reveals nothing about a 256-bit key).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export type VaultCipher = 'sqlcipher' | 'chacha20' | 'aegis';
/** Every cipher a vault may have been created with (an existing vault keeps its own). */
export const VAULT_CIPHERS: readonly VaultCipher[] = ['aegis', 'chacha20', 'sqlcipher'];

export interface VaultMeta {
  format: 1;
  cipher: VaultCipher;
  keyCheck: string;
}

export const META_FILE = 'vault.meta.json';

export function keyCheckOf(key: Buffer): string {
  return createHmac('sha256', key).update('clinic-ehr vault key check v1').digest('hex').slice(0, 32);
}

export function keyMatches(meta: VaultMeta | null, key: Buffer): boolean {
  if (!meta) return false;
  const a = Buffer.from(meta.keyCheck, 'hex');
  const b = Buffer.from(keyCheckOf(key), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function readMeta(dir: string): VaultMeta | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as Partial<VaultMeta>;
    if (parsed.format !== 1 || !VAULT_CIPHERS.includes(parsed.cipher as VaultCipher) || typeof parsed.keyCheck !== 'string') return null;
    return parsed as VaultMeta;
  } catch {
    return null;
  }
}

/** Atomic replace: write a temporary file, fsync, rename over the old one. */
export function writeMeta(dir: string, meta: VaultMeta): void {
  const target = join(dir, META_FILE);
  const tmp = `${target}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(meta));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, target);
}
