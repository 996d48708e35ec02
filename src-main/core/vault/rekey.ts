/**
 * Key rotation, crash-safe at every step. SQLite3MultipleCiphers 2.3.5 (bundled here) cannot rekey
 * in WAL mode, so the vault leaves WAL first. The order below keeps one invariant: at every instant
 * the file opens with the keychain's current key or its pending key (openVault tries both and settles).
 *
 *   1 stage     new key -> keychain "pending"          (file still under the old key)
 *   2 leave-wal checkpoint(TRUNCATE), journal_mode=DELETE
 *   3 rekey     PRAGMA rekey: every page rewritten in one rollback-journal transaction, so a crash
 *               rolls back to the old key; the commit flips the whole file to the new key
 *   4 verify    close, reopen with the new key only, quick_check
 *   5 promote   new key -> keychain "current", meta key-check, delete "pending"
 *   6 wal       back to WAL
 */
import { randomBytes } from 'node:crypto';
import { KeychainAccount, type KeyStore } from '../keychain/key-store';
import { configure, openKeyed, probe, rawKeyLiteral, saltFor, type ConnectionOptions, type Db } from './connection';
import { VaultRekeyError } from './errors';
import { keyCheckOf, writeMeta } from './meta';

export type RekeyStep = 'staged' | 'left-wal' | 'rekeyed' | 'verified' | 'promoted' | 'done';

export interface RekeyContext {
  file: string;
  dir: string;
  keyStore: KeyStore;
  connection: ConnectionOptions;
}

/** Returns the new connection (the old one is closed). `onStep` lets crash tests stop at each boundary. */
export async function rekeyVault(
  db: Db,
  ctx: RekeyContext,
  newKey: Buffer = randomBytes(32),
  onStep: (step: RekeyStep) => void = () => {},
): Promise<Db> {
  if (newKey.length !== 32) throw new RangeError('vault key must be 32 bytes');
  await ctx.keyStore.set(KeychainAccount.vaultKeyPending, newKey);
  onStep('staged');
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode=DELETE');
    onStep('left-wal');
    // Same salt as before (sqlcipher): see rawKeyLiteral for why a crash needs it unchanged.
    db.pragma(`rekey=${rawKeyLiteral(newKey, saltFor(ctx.file, ctx.connection.cipher))}`);
    onStep('rekeyed');
  } catch {
    // Nothing committed: the file is still under the old key. Drop the staged key, back to WAL.
    await ctx.keyStore.delete(KeychainAccount.vaultKeyPending);
    configure(db, ctx.connection);
    throw new VaultRekeyError('rekey');
  }
  db.close();
  let verified: Db;
  try {
    verified = openKeyed(ctx.file, newKey, ctx.connection);
    probe(verified);
    const check = verified.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error('quick_check');
  } catch {
    // The pending key stays staged: openVault will find which key opens the file and settle.
    throw new VaultRekeyError('verify');
  }
  onStep('verified');
  await ctx.keyStore.set(KeychainAccount.vaultKey, newKey);
  writeMeta(ctx.dir, { format: 1, cipher: ctx.connection.cipher, keyCheck: keyCheckOf(newKey) });
  await ctx.keyStore.delete(KeychainAccount.vaultKeyPending);
  onStep('promoted');
  configure(verified, ctx.connection);
  onStep('done');
  return verified;
}
