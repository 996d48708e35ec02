/**
 * Every cipher a vault can have: new vaults get AEGIS-256X2 (pinned, not the library's default), a
 * vault keeps the cipher it was created with, a lost vault.meta.json does not strand a vault made
 * with another cipher, and every cipher authenticates every page — a flipped bit anywhere in a page
 * (content, nonce or tag) is refused as CORRUPT, never returned as data.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryKeyStore, KeychainAccount, type KeyStore } from '../../src-main/core/keychain';
import { DEFAULT_CIPHER, openVault, VAULT_FILE } from '../../src-main/core/vault';
import { AEGIS_ALGORITHM, openKeyed, VAULT_PAGE_SIZE } from '../../src-main/core/vault/connection';
import { META_FILE, readMeta, VAULT_CIPHERS, writeMeta } from '../../src-main/core/vault/meta';
import { CANARY, canaryPatient, dirContainsPlaintext, removeDir, tempDir } from './helpers';

const PATIENTS = 300;

async function seeded(dir: string, keyStore: KeyStore, cipher?: (typeof VAULT_CIPHERS)[number]): Promise<void> {
  const vault = await openVault({ dir, keyStore, ...(cipher ? { cipher } : {}) });
  vault.transaction(() => {
    vault.patients.upsert(canaryPatient());
    for (let i = 0; i < PATIENTS; i++) vault.patients.upsert({ id: `p-${i}`, mrn: `MRN-${i}`, givenNames: 'Test', familyName: `Patient${i}`, birthDate: '1980-01-01' });
  });
  vault.close();
}

/** Flips one byte at `at` (from the page start) in every page but the first, so any query meets a damaged page. */
function flipInEveryPage(file: string, at: (pageSize: number) => number, pageSize = VAULT_PAGE_SIZE): void {
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    for (let page = pageSize; page + pageSize <= size; page += pageSize) {
      readSync(fd, b, 0, 1, page + at(pageSize));
      b[0] = (b[0] ?? 0) ^ 0x01;
      writeSync(fd, b, 0, 1, page + at(pageSize));
    }
  } finally {
    closeSync(fd);
  }
}

describe('ciphers', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => removeDir(dir));

  it('a new vault is AEGIS-256X2 by default, with the variant pinned on the connection', async () => {
    expect(DEFAULT_CIPHER).toBe('aegis');
    const keyStore = createMemoryKeyStore();
    const vault = await openVault({ dir, keyStore });
    expect(vault.cipher).toBe('aegis');
    expect(vault.db.pragma('cipher', { simple: true })).toBe('aegis');
    expect(vault.db.pragma('algorithm', { simple: true })).toBe(AEGIS_ALGORITHM);
    vault.close();
    expect(readMeta(dir)?.cipher).toBe('aegis');
  });

  it('AEGIS-256X2 survives a key rotation: same cipher and variant after rekey and after reopen', async () => {
    const keyStore = createMemoryKeyStore();
    await seeded(dir, keyStore);
    const vault = await openVault({ dir, keyStore });
    await vault.rekey(randomBytes(32));
    expect(vault.db.pragma('cipher', { simple: true })).toBe('aegis');
    expect(vault.db.pragma('algorithm', { simple: true })).toBe(AEGIS_ALGORITHM);
    expect(vault.patients.count()).toBe(PATIENTS + 1);
    vault.close();
    expect(readMeta(dir)?.cipher).toBe('aegis');
    const again = await openVault({ dir, keyStore });
    expect(again.db.pragma('algorithm', { simple: true })).toBe(AEGIS_ALGORITHM);
    expect(again.patients.getByMrn(CANARY.mrn)?.familyName).toBe(CANARY.family);
    again.close();
  });

  describe.each(VAULT_CIPHERS)('%s', (cipher) => {
    it('keeps its cipher on reopen (no cipher asked for), and no PHI is readable on disk', async () => {
      const keyStore = createMemoryKeyStore();
      await seeded(dir, keyStore, cipher);
      expect(readMeta(dir)?.cipher).toBe(cipher);
      const vault = await openVault({ dir, keyStore });
      expect(vault.cipher).toBe(cipher);
      expect(vault.patients.getByMrn(CANARY.mrn)?.familyName).toBe(CANARY.family);
      vault.close();
      expect(dirContainsPlaintext(dir)).toEqual([]);
    });

    it('opens without vault.meta.json (whatever the default cipher), and writes it back with its own cipher', async () => {
      const keyStore = createMemoryKeyStore();
      await seeded(dir, keyStore, cipher);
      rmSync(join(dir, META_FILE));
      const vault = await openVault({ dir, keyStore });
      expect(vault.cipher).toBe(cipher);
      expect(vault.patients.count()).toBe(PATIENTS + 1);
      vault.close();
      expect(readMeta(dir)?.cipher).toBe(cipher);
      const again = await openVault({ dir, keyStore });
      expect(again.cipher).toBe(cipher);
      again.close();
    });

    it(`a new vault has ${VAULT_PAGE_SIZE}-byte pages; a vault made with SQLite's 4 KiB pages keeps them, and its data`, async () => {
      const keyStore = createMemoryKeyStore();
      await seeded(dir, keyStore, cipher);
      const vault = await openVault({ dir, keyStore });
      expect(vault.db.pragma('page_size', { simple: true })).toBe(VAULT_PAGE_SIZE);
      vault.close();

      // A vault file begun with 4 KiB pages (every vault made before the page size was set):
      const old = tempDir();
      try {
        const oldStore = createMemoryKeyStore();
        const key = randomBytes(32);
        await oldStore.set(KeychainAccount.vaultKey, key);
        const db = openKeyed(join(old, VAULT_FILE), key, { cipher });
        db.pragma('page_size=4096');
        db.exec('CREATE TABLE first_page (x); DROP TABLE first_page;');
        db.close();
        await seeded(old, oldStore, cipher);
        const reopened = await openVault({ dir: old, keyStore: oldStore });
        expect(reopened.db.pragma('page_size', { simple: true })).toBe(4096);
        expect(reopened.patients.getByMrn(CANARY.mrn)?.familyName).toBe(CANARY.family);
        expect(reopened.patients.count()).toBe(PATIENTS + 1);
        reopened.close();
      } finally {
        removeDir(old);
      }
    });

    // Offsets from the page start: page content, and the last bytes of the page (the reserved
    // area each cipher keeps its nonce and tag in: 64 bytes for AEGIS-256X2, 32 for ChaCha20-Poly1305,
    // 80 for SQLCipher's IV + HMAC-SHA512).
    it.each([
      ['content', () => 200],
      ['nonce/tag area (last byte)', (pageSize: number) => pageSize - 1],
      ['nonce/tag area (20 bytes from the end)', (pageSize: number) => pageSize - 20],
    ] as const)('a flipped bit in the %s of a page is detected: CORRUPT, never data', async (_where, at) => {
      const keyStore = createMemoryKeyStore();
      await seeded(dir, keyStore, cipher);
      flipInEveryPage(join(dir, VAULT_FILE), at);
      let err: unknown = null;
      try {
        const vault = await openVault({ dir, keyStore });
        try {
          vault.patients.search({ name: 'patient' });
          vault.patients.getByMrn(CANARY.mrn);
        } finally {
          vault.close();
        }
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'VAULT_UNAVAILABLE', detail: { reason: 'CORRUPT' } });
    });
  });

  it('a vault opened with another cipher than its own is refused (the cipher is part of the format)', async () => {
    const keyStore = createMemoryKeyStore();
    await seeded(dir, keyStore, 'chacha20');
    // openVault trusts vault.meta.json; a meta file naming the wrong cipher must not yield data.
    const meta = readMeta(dir)!;
    writeMeta(dir, { ...meta, cipher: 'aegis' });
    const err = await openVault({ dir, keyStore }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'VaultNotADatabaseError' });
  });
});
