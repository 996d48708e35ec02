/**
 * Failure modes, each with a distinct, clear, PHI-free error and nothing lost or overwritten:
 * wrong key, not a database, plaintext database, truncated and corrupted files, read-only folder,
 * disk full during a write (a child process under RLIMIT_FSIZE), keychain entry deleted, keychain
 * unreachable, and a second process opening the same vault. Runs against the real gnome-keyring.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, openSync, readFileSync, readSync, closeSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeytarKeyStore, createMemoryKeyStore, KeychainAccount, type KeyStore } from '../../src-main/core/keychain';
import { openVault, VAULT_FILE, type Vault } from '../../src-main/core/vault';
import { VAULT_PAGE_SIZE } from '../../src-main/core/vault/connection';
import { EhrError } from '../../src-shared/errors';
import { CANARY, canaryPatient, removeDir, runVaultChild, startVaultChild, tempDir, uniqueService, unlockTestKeyring } from './helpers';

/** Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the tmpfs case is skipped, the RLIMIT one still runs. */
function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('ehr-vault-mountprobe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    removeDir(probe);
  }
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The error thrown by openVault, checked for a PHI-free surface. */
async function openError(dir: string, keyStore: KeyStore): Promise<EhrError> {
  const err = await openVault({ dir, keyStore }).then(
    (v) => { v.close(); return null; },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EhrError);
  const surface = `${JSON.stringify((err as EhrError).toJSON())} ${(err as Error).message} ${(err as Error).stack ?? ''}`;
  for (const phi of [CANARY.family, CANARY.given, CANARY.mrn]) expect(surface).not.toContain(phi);
  return err as EhrError;
}

async function seededVault(dir: string, keyStore: KeyStore, patients = 200): Promise<void> {
  const vault = await openVault({ dir, keyStore });
  vault.transaction(() => {
    vault.patients.upsert(canaryPatient());
    for (let i = 0; i < patients; i++) {
      vault.patients.upsert({ id: `p-${i}`, mrn: `MRN-${i}`, givenNames: 'Test', familyName: `Patient${i}`, birthDate: '1980-01-01' });
    }
  });
  vault.close();
}

async function expectIntact(dir: string, keyStore: KeyStore, patients = 201): Promise<void> {
  const vault: Vault = await openVault({ dir, keyStore });
  expect(vault.patients.count()).toBe(patients);
  expect(vault.patients.getByMrn(CANARY.mrn)?.familyName).toBe(CANARY.family);
  expect(vault.db.pragma('quick_check', { simple: true })).toBe('ok');
  vault.close();
}

describe('vault failure modes', () => {
  let dir: string;
  let keyStore: KeyStore;
  let file: string;
  let service: string;
  beforeEach(async () => {
    await unlockTestKeyring();
    dir = tempDir();
    file = join(dir, VAULT_FILE);
    service = uniqueService();
    keyStore = createKeytarKeyStore(service);
    await seededVault(dir, keyStore);
  });
  afterEach(async () => {
    for (const a of Object.values(KeychainAccount)) await keyStore.delete(a).catch(() => false);
    chmodSync(dir, 0o700);
    removeDir(dir);
  });

  it('wrong key in the keychain -> WRONG_KEY; the file is untouched and the right key still opens it', async () => {
    const rightKey = (await keyStore.get(KeychainAccount.vaultKey))!;
    const before = sha(file);
    await keyStore.set(KeychainAccount.vaultKey, randomBytes(32));
    const err = await openError(dir, keyStore);
    expect(err).toMatchObject({ name: 'VaultWrongKeyError', code: 'VAULT_UNAVAILABLE', detail: { reason: 'WRONG_KEY' } });
    expect(sha(file)).toBe(before);
    await keyStore.set(KeychainAccount.vaultKey, rightKey);
    await expectIntact(dir, keyStore);
  });

  it('a file that is not a database -> NOT_A_DATABASE, and it is not overwritten', async () => {
    copyFileSync(file, `${file}.bak`);
    writeFileSync(file, Buffer.alloc(8192, 'this is a clinic letter, not a database. '));
    const before = sha(file);
    const err = await openError(dir, keyStore);
    expect(err).toMatchObject({ name: 'VaultNotADatabaseError', detail: { reason: 'NOT_A_DATABASE' } });
    expect(sha(file)).toBe(before);
    copyFileSync(`${file}.bak`, file);
    await expectIntact(dir, keyStore);
  });

  it('an unencrypted SQLite file in place of the vault -> NOT_ENCRYPTED (never used as a plaintext fallback)', async () => {
    copyFileSync(file, `${file}.bak`);
    const plain = new Database(`${file}.plain`);
    plain.exec("CREATE TABLE patients (name TEXT); INSERT INTO patients VALUES ('someone')");
    plain.close();
    copyFileSync(`${file}.plain`, file);
    const err = await openError(dir, keyStore);
    expect(err).toMatchObject({ name: 'VaultNotADatabaseError', detail: { reason: 'NOT_ENCRYPTED' } });
    copyFileSync(`${file}.bak`, file);
    await expectIntact(dir, keyStore);
  });

  it('a truncated file -> CORRUPT (cut at a page boundary, and mid-page), left as it was', async () => {
    copyFileSync(file, `${file}.bak`);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(4 * VAULT_PAGE_SIZE);
    for (const cut of [Math.floor(size / 2 / VAULT_PAGE_SIZE) * VAULT_PAGE_SIZE, 1000]) {
      truncateSync(file, cut);
      const err = await openError(dir, keyStore);
      expect(err).toMatchObject({ name: 'VaultCorruptError', detail: { reason: 'CORRUPT' } });
      expect(statSync(file).size).toBe(cut);
      copyFileSync(`${file}.bak`, file);
    }
    await expectIntact(dir, keyStore);
  });

  it('a corrupted page (bytes flipped mid-file) -> CORRUPT when it is read, as a named error', async () => {
    copyFileSync(file, `${file}.bak`);
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    const page = Buffer.alloc(VAULT_PAGE_SIZE);
    // Damage every page but the first: whatever the query touches is damaged.
    for (let offset = VAULT_PAGE_SIZE; offset + VAULT_PAGE_SIZE <= size; offset += VAULT_PAGE_SIZE) {
      readSync(fd, page, 0, VAULT_PAGE_SIZE, offset);
      page[100] = (page[100] ?? 0) ^ 0xff;
      writeSync(fd, page, 0, VAULT_PAGE_SIZE, offset);
    }
    closeSync(fd);
    let err: unknown;
    try {
      const vault = await openVault({ dir, keyStore });
      try {
        vault.patients.search({ name: 'patient' });
      } finally {
        vault.close();
      }
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VAULT_UNAVAILABLE', detail: { reason: 'CORRUPT' } });
    copyFileSync(`${file}.bak`, file);
    await expectIntact(dir, keyStore);
  });

  it('a read-only vault folder -> READ_ONLY; nothing is created or changed', async () => {
    const before = sha(file);
    chmodSync(file, 0o644);
    chmodSync(dir, 0o555);
    if (process.getuid?.() === 0) {
      // Root ignores file modes, so the opener runs as "nobody" in a child process.
      const key = (await keyStore.get(KeychainAccount.vaultKey))!.toString('base64');
      const r = await runVaultChild(['open', dir, `memory:${key}`], { uid: 65534 });
      expect(r.lines.at(-1)).toMatchObject({ ok: false, error: { name: 'VaultReadOnlyError', reason: 'READ_ONLY' } });
    } else {
      const err = await openError(dir, keyStore);
      expect(err).toMatchObject({ name: 'VaultReadOnlyError', detail: { reason: 'READ_ONLY' } });
    }
    expect(sha(file)).toBe(before);
    chmodSync(dir, 0o700);
    await expectIntact(dir, keyStore);
  });

  it('disk full during a write -> DISK_FULL; committed writes survive and the vault stays consistent', async () => {
    // A child process with a file-size limit (RLIMIT_FSIZE) writes until the storage refuses.
    const r = await runVaultChild(['fill', dir, `keytar:${service}`], { fileSizeLimitBlocks: 3000 });
    const last = r.lines.at(-1) as { ok: boolean; committedBatches: number; error: { name: string; reason: string; message: string } };
    expect(last).toMatchObject({ ok: false, error: { name: 'VaultDiskFullError', reason: 'DISK_FULL' } });
    expect(last.error.message).toMatch(/could not write to disk/);
    expect(last.committedBatches).toBeGreaterThan(0);
    // Every committed batch is there, the failed one left nothing behind.
    await expectIntact(dir, keyStore, 201 + last.committedBatches * 50);
  });

  it.skipIf(!canMountTmpfs())('disk full on a real size-limited filesystem (2 MB tmpfs) -> DISK_FULL; the vault stays consistent', async () => {
    const mount = tempDir('ehr-vault-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mount]);
    try {
      const small = join(mount, 'vault');
      await seededVault(small, keyStore, 20);
      const r = await runVaultChild(['fill', small, `keytar:${service}`]);
      const last = r.lines.at(-1) as { ok: boolean; committedBatches: number };
      expect(last).toMatchObject({ ok: false, error: { name: 'VaultDiskFullError', reason: 'DISK_FULL' } });
      await expectIntact(small, keyStore, 21 + last.committedBatches * 50);
    } finally {
      execFileSync('umount', [mount]);
      removeDir(mount);
    }
  });

  it('keychain entry deleted while the vault exists -> KEY_MISSING; no new key, vault untouched', async () => {
    const before = sha(file);
    await keyStore.delete(KeychainAccount.vaultKey);
    const err = await openError(dir, keyStore);
    expect(err).toMatchObject({ name: 'VaultKeyMissingError', code: 'KEYCHAIN_UNAVAILABLE', detail: { reason: 'KEY_MISSING' } });
    expect(await keyStore.get(KeychainAccount.vaultKey)).toBeNull(); // never re-created
    expect(sha(file)).toBe(before);
  });

  it('keychain unreachable -> KEYCHAIN_UNAVAILABLE; the vault is neither opened nor re-created', async () => {
    const key = (await keyStore.get(KeychainAccount.vaultKey))!;
    const before = sha(file);
    const locked = createMemoryKeyStore({ [KeychainAccount.vaultKey]: key });
    locked.unavailable = true;
    const err = await openError(dir, locked);
    expect(err).toMatchObject({ name: 'KeychainUnavailableError', code: 'KEYCHAIN_UNAVAILABLE' });
    expect(sha(file)).toBe(before);
    // Same through keytar itself with no D-Bus session at all (a child process).
    const r = await runVaultChild(['open', dir, `keytar:${service}`], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/ehr-no-bus' },
    });
    expect(r.lines.at(-1)).toMatchObject({ ok: false, error: { name: 'KeychainUnavailableError', code: 'KEYCHAIN_UNAVAILABLE' } });
    expect(sha(file)).toBe(before);
  });

  it('a second process opening the same vault -> IN_USE; the first keeps working', async () => {
    const { first, child, done } = await startVaultChild(['hold', dir, `keytar:${service}`]);
    expect(first).toMatchObject({ ok: true, holding: true });
    try {
      const err = await openError(dir, keyStore);
      expect(err).toMatchObject({ name: 'VaultInUseError', detail: { reason: 'IN_USE' } });
    } finally {
      child.kill('SIGKILL');
      await done;
    }
    // The kernel released the lock with the dead process: no stale lock file to clean up.
    await expectIntact(dir, keyStore);
  });
});
