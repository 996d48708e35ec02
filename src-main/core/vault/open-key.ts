/**
 * Which key opens the vault. The keychain holds the current key and, during a rotation, a pending
 * one; after a crash either may be the one that opens the file, so both are tried (current first)
 * and the keychain is settled to whichever worked. When neither does, the failure is classified
 * from the evidence (SQLite's code, the file header, the key-check value in vault.meta.json).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { KeychainAccount, type KeyStore } from '../keychain/key-store';
import { openKeyed, probe, type Db } from './connection';
import {
  VaultCorruptError, VaultError, VaultInUseError, VaultNotADatabaseError, VaultReadOnlyError, VaultWrongKeyError, classifyStorageError,
} from './errors';
import { keyMatches, writeMeta, keyCheckOf, VAULT_CIPHERS, type VaultCipher, type VaultMeta } from './meta';

export interface Candidate {
  account: 'current' | 'pending';
  key: Buffer;
}

function sqliteCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function hasPlaintextHeader(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    return head.toString('latin1') === 'SQLite format 3\u0000';
  } finally {
    closeSync(fd);
  }
}

export async function readCandidates(keyStore: KeyStore): Promise<{ current: Buffer | null; pending: Buffer | null }> {
  const current = await keyStore.get(KeychainAccount.vaultKey);
  const pending = await keyStore.get(KeychainAccount.vaultKeyPending);
  return { current, pending };
}

/** Opens an existing vault with the first candidate that decrypts it; classifies the failure otherwise. */
export function openWithCandidates(
  file: string,
  candidates: Candidate[],
  meta: VaultMeta | null,
  opts: { cipher: VaultCipher; nativeBinding?: string },
): { db: Db; used: Candidate } {
  const codes: string[] = [];
  for (const candidate of candidates) {
    let db: Db | null = null;
    try {
      db = openKeyed(file, candidate.key, opts);
      probe(db);
      return { db, used: candidate };
    } catch (e) {
      db?.close();
      const code = sqliteCode(e);
      // Not SQLite's answer about the file (e.g. the native module failed to load): not a vault
      // condition to classify, and raised before any data was read, so it travels as it is.
      if (!code.startsWith('SQLITE_')) throw e;
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) throw new VaultInUseError();
      codes.push(code);
    }
  }
  if (codes.some((c) => c.startsWith('SQLITE_CORRUPT'))) throw new VaultCorruptError();
  if (codes.some((c) => c === 'SQLITE_CANTOPEN' || c.startsWith('SQLITE_READONLY') || c === 'SQLITE_PERM')) throw new VaultReadOnlyError();
  if (codes.every((c) => c === 'SQLITE_NOTADB')) {
    if (hasPlaintextHeader(file)) throw new VaultNotADatabaseError(true);
    const keyIsRight = candidates.some((c) => keyMatches(meta, c.key));
    if (!keyIsRight) throw new VaultWrongKeyError();
    // The right key cannot read page 1: the file was replaced or its first page destroyed. A size
    // that is not a whole number of pages means it was cut short rather than swapped.
    const size = statSync(file).size;
    throw size > 0 && size % 512 === 0 ? new VaultNotADatabaseError() : new VaultCorruptError();
  }
  throw classifyStorageError(Object.assign(new Error('open'), { code: codes[0] })) ?? new VaultError('CORRUPT', { sqlite: codes[0] ?? null });
}

/**
 * Like openWithCandidates, and when vault.meta.json is missing (lost, or a crash before it was first
 * written) the file's cipher is unknown too: the expected cipher is tried first, then the others,
 * so a vault created with an earlier default cipher still opens. Only "no key opens it" moves on
 * to the next cipher; any other finding (corrupt, in use, not encrypted) is final.
 */
export function openWithAnyCipher(
  file: string,
  candidates: Candidate[],
  meta: VaultMeta | null,
  opts: { cipher: VaultCipher; nativeBinding?: string },
): { db: Db; used: Candidate; cipher: VaultCipher } {
  if (meta) return { ...openWithCandidates(file, candidates, meta, { ...opts, cipher: meta.cipher }), cipher: meta.cipher };
  let first: unknown = null;
  for (const cipher of [opts.cipher, ...VAULT_CIPHERS.filter((c) => c !== opts.cipher)]) {
    try {
      return { ...openWithCandidates(file, candidates, meta, { ...opts, cipher }), cipher };
    } catch (e) {
      if (!(e instanceof VaultWrongKeyError)) throw e;
      first ??= e;
    }
  }
  throw first;
}

/**
 * Makes the keychain agree with the key that opened the vault: promote a pending key that worked,
 * or drop a pending key that was never applied. Idempotent, so a crash here is settled next time.
 */
export async function settleKeychain(
  keyStore: KeyStore,
  dir: string,
  cipher: VaultCipher,
  used: Candidate,
  pending: Buffer | null,
): Promise<void> {
  if (used.account === 'pending') {
    await keyStore.set(KeychainAccount.vaultKey, used.key);
  }
  writeMeta(dir, { format: 1, cipher, keyCheck: keyCheckOf(used.key) });
  if (pending) await keyStore.delete(KeychainAccount.vaultKeyPending);
}
