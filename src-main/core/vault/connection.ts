/**
 * Opening the SQLite3MultipleCiphers database with a raw 256-bit key and the connection settings
 * every vault connection has. One place, so the vault, rekey and the benchmark open it the same way.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3-multiple-ciphers';
import type { VaultCipher } from './meta';

export type Db = Database.Database;

export interface ConnectionOptions {
  cipher: VaultCipher;
  nativeBinding?: string;
  /** Page cache per connection (openVault's default 64 MB; the benchmark uses 256 MB on both sides). */
  cacheSizeMb: number;
  /** 'WAL' normally; 'DELETE' while rekeying (SQLite3MC 2.3.5 cannot rekey in WAL mode). */
  journalMode: 'WAL' | 'DELETE';
  synchronous: 'FULL' | 'NORMAL';
}

/**
 * The key as SQLite3MC's raw-key literal, which skips the passphrase KDF on every open.
 * - aegis, chacha20: `x'<64 hex key>'`; the per-page keys come from the key, each page's random
 *   nonce and its page number — the file's salt plays no part (it only feeds a passphrase KDF).
 * - sqlcipher: `x'<64 hex key><32 hex salt>'`. Its HMAC key is derived from the key AND the salt
 *   stored in the file's first 16 bytes, and a rekey would otherwise write a fresh salt: a crash
 *   mid-rekey then leaves page 1 with the new salt while the journal needs the old key with the old
 *   salt — a vault that neither key opens. Pinning the salt keeps it the same across rekeys.
 */
export function rawKeyLiteral(key: Buffer, salt: Buffer | null): string {
  if (key.length !== 32) throw new RangeError('vault key must be 32 bytes');
  return `"x'${key.toString('hex')}${salt ? salt.toString('hex') : ''}'"`;
}

/** SQLCipher keeps its salt in the clear in the first 16 bytes; a new file gets a random one. */
export function saltFor(file: string, cipher: VaultCipher): Buffer | null {
  if (cipher !== 'sqlcipher') return null;
  const salt = Buffer.alloc(16);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, salt, 0, 16, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    read = 0; // no file yet
  }
  return read === 16 ? salt : randomBytes(16);
}

/**
 * The AEGIS variant of an 'aegis' vault, pinned here rather than left to SQLite3MC's default
 * (aegis-256): the variant is not recorded in the file, so a library whose default changed could not
 * open the vault. Changing it means a new VaultCipher name, never a new value here.
 * AEGIS-256X2: 256-bit key (the workstation key as it is), 256-bit random nonce and 256-bit tag per
 * page, like AEGIS-256, computed as two AEGIS-256 lanes: one 256-bit VAES register on CPUs that have
 * VAES (AVX2 or AVX-512), two AES-NI lanes elsewhere (about AEGIS-256's speed there). docs/vault.md
 * has the figures that chose it.
 */
export const AEGIS_ALGORITHM = 'aegis-256x2';

/** Cipher parameters set after `PRAGMA cipher` and before the key; each answer is checked. */
function cipherParameters(db: Db, cipher: VaultCipher): void {
  if (cipher !== 'aegis') return; // chacha20 and sqlcipher vaults keep the library's defaults they were created with
  const set = db.pragma(`algorithm='${AEGIS_ALGORITHM}'`, { simple: true });
  if (set !== AEGIS_ALGORITHM) throw new Error(`cipher parameter not applied: algorithm=${String(set)}`);
}

/** Opens and keys the file; does not touch it yet (SQLite reads lazily). */
export function openKeyed(file: string, key: Buffer, opts: Pick<ConnectionOptions, 'cipher' | 'nativeBinding'>): Db {
  const db = new Database(file, { timeout: 0, ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}) });
  try {
    db.pragma(`cipher='${opts.cipher}'`);
    cipherParameters(db, opts.cipher);
    db.pragma(`key=${rawKeyLiteral(key, saltFor(file, opts.cipher))}`);
    lockExclusive(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * One process owns the vault: the lock is taken at the first read and held until close, and the
 * kernel drops it when the process dies, so a crash never leaves a stale lock behind. It also spares
 * every read transaction its lock calls and WAL-index checks (the benchmark's plain baseline gets it
 * too, so the ratios compare like with like).
 */
export function lockExclusive(db: Db): void {
  db.pragma('locking_mode=EXCLUSIVE');
}

/**
 * Page size of a new vault (fixed by SQLite when the first page is written; existing vaults keep
 * theirs). 16 KiB rather than SQLite's 4 KiB: an initial sync writes ~100,000 records of ~1 KB in
 * bulk, and with 4 KiB pages a fifth of the insert time went to B-tree page splits and per-page
 * encryption. Measured on the vault's own schema (3 indexes, one a generated column), AEGIS,
 * WAL, synchronous=FULL: 100,000 pulled-record inserts 3.1–4.1 s at 4 KiB, 2.3–2.8 s at 16 KiB
 * (32 KiB gained another ~10%, at four times the bytes read per cold point read). docs/vault.md.
 */
export const VAULT_PAGE_SIZE = 16_384;

/** Sets a new, still empty database file's page size (a no-op on a file that has pages). */
export function setNewFilePageSize(db: Db): void {
  db.pragma(`page_size=${VAULT_PAGE_SIZE}`);
}

/** First read: proves the key (page 1 decrypts) and takes the exclusive lock. Throws SqliteError. */
export function probe(db: Db): void {
  db.prepare('SELECT count(*) FROM sqlite_master').get();
}

export function configure(db: Db, opts: ConnectionOptions): void {
  db.pragma(`journal_mode=${opts.journalMode}`);
  db.pragma(`synchronous=${opts.synchronous}`);
  db.pragma(`cache_size=${-Math.round(opts.cacheSizeMb * 1024)}`);
  // Sorts and temporary tables stay in memory: a temp file would be one more place PHI could land.
  db.pragma('temp_store=MEMORY');
  // Deleted content is overwritten, not just unlinked: a purged chart (access ended) or a delivered
  // break-glass text must not survive in free pages, where a later leak of the key would expose it.
  db.pragma('secure_delete=ON');
  db.pragma('foreign_keys=ON');
}
