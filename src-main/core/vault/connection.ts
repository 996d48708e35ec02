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
  /** Page cache per connection; the architecture measured 256 MB bringing reads to ~1.0-1.1x plain. */
  cacheSizeMb: number;
  /** 'WAL' normally; 'DELETE' while rekeying (SQLite3MC 2.3.5 cannot rekey in WAL mode). */
  journalMode: 'WAL' | 'DELETE';
  synchronous: 'FULL' | 'NORMAL';
}

/**
 * The key as SQLite3MC's raw-key literal, which skips the passphrase KDF on every open.
 * - chacha20: `x'<64 hex key>'`; the per-page keys come from the key and each page's nonce.
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

/** Opens and keys the file; does not touch it yet (SQLite reads lazily). */
export function openKeyed(file: string, key: Buffer, opts: Pick<ConnectionOptions, 'cipher' | 'nativeBinding'>): Db {
  const db = new Database(file, { timeout: 0, ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}) });
  try {
    db.pragma(`cipher='${opts.cipher}'`);
    db.pragma(`key=${rawKeyLiteral(key, saltFor(file, opts.cipher))}`);
    // One process owns the vault: the lock is taken at the first read and held until close, and the
    // kernel drops it when the process dies, so a crash never leaves a stale lock behind.
    db.pragma('locking_mode=EXCLUSIVE');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
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
  db.pragma('foreign_keys=ON');
}
