/**
 * What the vault deletes is overwritten, not left in free pages: a purged chart must be gone from
 * the file itself, so a key that leaks later cannot bring it back. Checked on an unencrypted file
 * with the vault's own connection settings (the encrypted file cannot be searched for plaintext;
 * the setting is the same), against a control without them that shows the check can fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, describe, expect, it } from 'vitest';
import { configure, lockExclusive } from '../../src-main/core/vault/connection';
import { migrate } from '../../src-main/core/vault/migrations';
import { createPatientRepository } from '../../src-main/core/vault/repos/patients';
import { CANARY, canaryPatient, removeDir, tempDir } from './helpers';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

/** Writes filler patients and the canary, deletes the canary, checkpoints; returns the file's bytes. */
function writeThenDelete(withVaultSettings: boolean): Buffer {
  const dir = tempDir('ehr-secure-delete-');
  dirs.push(dir);
  const file = join(dir, 'plain.db');
  const db = new Database(file);
  lockExclusive(db);
  if (withVaultSettings) configure(db, { cipher: 'aegis', cacheSizeMb: 8, journalMode: 'WAL', synchronous: 'FULL' });
  else db.pragma('journal_mode=WAL');
  migrate(db);
  const patients = createPatientRepository(db);
  db.transaction(() => {
    for (let i = 0; i < 50; i++) patients.upsert({ id: `p-${i}`, mrn: `MRN-${i}`, givenNames: 'Filler', familyName: `Person${i}`, birthDate: '1970-01-01' });
    patients.upsert(canaryPatient());
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.transaction(() => patients.delete(canaryPatient().id))();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return readFileSync(file);
}

describe('secure delete', () => {
  it('leaves no trace of a deleted patient in the file with the vault settings; without them it does', () => {
    expect(writeThenDelete(false).includes(Buffer.from(CANARY.family))).toBe(true); // the control: plain SQLite keeps it
    const bytes = writeThenDelete(true);
    // The search tokens are stored lower-cased: look for those too.
    for (const needle of [CANARY.family, CANARY.given, CANARY.mrn, CANARY.family.toLowerCase(), CANARY.given.toLowerCase()]) expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
  });
});
