/**
 * Key rotation: the new key replaces the old one only after the vault verified under it, and a
 * SIGKILL at any point leaves a vault that the keychain's current or pending key opens, with every
 * row intact. Kills land on each protocol boundary (the child kills itself there) and at random
 * moments while the pages are being rewritten (the parent kills it; seeded, EHR_CRASH_SEED replays
 * a failing sequence: test/helpers/crash-seed.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKeytarKeyStore, createMemoryKeyStore, KeychainAccount, type KeyStore } from '../../src-main/core/keychain';
import { openVault, VAULT_FILE, type RekeyStep, type VaultCipher } from '../../src-main/core/vault';
import { openKeyed, probe } from '../../src-main/core/vault/connection';
import { crashRandom } from '../helpers/crash-seed';
import { CANARY, canaryPatient, dirContainsPlaintext, removeDir, runVaultChild, tempDir, uniqueService, unlockTestKeyring } from './helpers';

const PATIENTS = 20_000;
/** Child runs that must really be killed mid-rotation, per cipher. */
const RANDOM_KILLS = 12;

/** Whether this key decrypts the vault file (a read of page 1; nothing is written). */
function keyOpens(dir: string, key: Buffer, cipher: VaultCipher): boolean {
  let db: ReturnType<typeof openKeyed> | null = null;
  try {
    db = openKeyed(join(dir, VAULT_FILE), key, { cipher });
    probe(db);
    return true;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

async function fill(dir: string, keyStore: KeyStore, cipher: VaultCipher): Promise<void> {
  const vault = await openVault({ dir, keyStore, cipher });
  expect(vault.cipher).toBe(cipher);
  vault.transaction(() => {
    vault.patients.upsert(canaryPatient());
    for (let i = 0; i < PATIENTS; i++) {
      vault.patients.upsert({ id: `p-${i}`, mrn: `MRN-${i}`, givenNames: `Given${i % 97}`, familyName: `Family${i}`, birthDate: '1980-01-01' });
    }
    for (let i = 0; i < 50; i++) vault.audit.append({ action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u1', role: 'nurse', patientId: `p-${i}`, correlationId: `c${i}` });
  });
  vault.close();
}

/** Opens through the normal path (current key, then pending) and checks every row and the chain. */
async function expectOpensIntact(dir: string, keyStore: KeyStore): Promise<void> {
  const vault = await openVault({ dir, keyStore });
  try {
    expect(vault.patients.count()).toBe(PATIENTS + 1);
    expect(vault.patients.getByMrn(CANARY.mrn)?.familyName).toBe(CANARY.family);
    expect(vault.audit.verify()).toMatchObject({ ok: true, count: 50 });
    expect(vault.db.pragma('quick_check', { simple: true })).toBe('ok');
    expect(vault.db.pragma('journal_mode', { simple: true })).toBe('wal');
  } finally {
    vault.close();
  }
  // Settled: no pending key left behind once the vault opened.
  expect(await keyStore.get(KeychainAccount.vaultKeyPending)).toBeNull();
}

describe('rekey (in process)', () => {
  it('switches the key, drops the old one from the keychain, keeps the data and WAL mode', async () => {
    const dir = tempDir();
    const keyStore = createMemoryKeyStore();
    const vault = await openVault({ dir, keyStore });
    vault.patients.upsert(canaryPatient());
    const oldKey = (await keyStore.get(KeychainAccount.vaultKey))!;
    const steps: RekeyStep[] = [];
    const newKey = randomBytes(32);
    await vault.rekey(newKey, (s) => steps.push(s));
    expect(steps).toEqual(['staged', 'left-wal', 'rekeyed', 'verified', 'promoted', 'done']);
    expect((await keyStore.get(KeychainAccount.vaultKey))?.equals(newKey)).toBe(true);
    expect(await keyStore.get(KeychainAccount.vaultKeyPending)).toBeNull();
    // The vault keeps working on the new connection.
    expect(vault.patients.getById('pat-canary')?.familyName).toBe(CANARY.family);
    expect(vault.db.pragma('journal_mode', { simple: true })).toBe('wal');
    vault.close();
    expect(dirContainsPlaintext(dir)).toEqual([]);
    // The old key no longer opens it.
    const err = await openVault({ dir, keyStore: createMemoryKeyStore({ [KeychainAccount.vaultKey]: oldKey }) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ detail: { reason: 'WRONG_KEY' } });
    removeDir(dir);
  });
});

// Every cipher: sqlcipher needs its salt pinned across the rekey (connection.ts); chacha20 and aegis
// (AEGIS-256X2, the default) do not derive their keys from the salt.
describe.each(['sqlcipher', 'chacha20', 'aegis'] as const)('%s rekey survives SIGKILL at any point (child processes, real keychain)', (cipher) => {
  let dir: string;
  let service: string;
  let keyStore: KeyStore;
  let elapsedMs = 0;

  beforeAll(async () => {
    await unlockTestKeyring();
    dir = tempDir();
    service = uniqueService();
    keyStore = createKeytarKeyStore(service);
    await fill(dir, keyStore, cipher);
    // One uninterrupted rotation in a child, to learn how long the window of random kills is.
    // The window is ready -> rekeyed (the rotation itself), not the close and exit after it.
    let readyAt = 0;
    let rekeyedAt = 0;
    const r = await runVaultChild(['rekey', dir, `keytar:${service}`], {
      onLine: (l) => {
        if (l.ready) readyAt = Date.now();
        if (l.rekeyed) rekeyedAt = Date.now();
      },
    });
    elapsedMs = rekeyedAt - readyAt;
    expect(r.lines.at(-1)).toMatchObject({ ok: true, rekeyed: true });
    await expectOpensIntact(dir, keyStore);
  });
  beforeEach(unlockTestKeyring);
  afterAll(async () => {
    for (const a of Object.values(KeychainAccount)) await keyStore.delete(a).catch(() => false);
    removeDir(dir);
  });

  it.each(['staged', 'left-wal', 'rekeyed', 'verified', 'promoted'] as const)('killed right after "%s": opens with all rows', async (step) => {
    const before = (await keyStore.get(KeychainAccount.vaultKey))!;
    const r = await runVaultChild([`rekey:${step}`, dir, `keytar:${service}`]);
    expect(r.signal).toBe('SIGKILL');
    await expectOpensIntact(dir, keyStore);
    const after = (await keyStore.get(KeychainAccount.vaultKey))!;
    // Before the rekey committed the old key stays; from the commit on, the new one wins.
    expect(after.equals(before)).toBe(step === 'staged' || step === 'left-wal');
  });

  it(`killed at ${RANDOM_KILLS} random moments during the rotation: opens with all rows every time`, async () => {
    expect(elapsedMs).toBeGreaterThan(0);
    const random = crashRandom(`rekey ${cipher}`);
    // Only runs the kill really ended count: a rotation that finished before its kill landed proves
    // nothing about crashes, so the loop keeps going (bounded) until enough runs were killed.
    let killed = 0;
    let runs = 0;
    const landed = { beforeCommit: 0, afterCommit: 0 };
    while (killed < RANDOM_KILLS && runs < RANDOM_KILLS * 3) {
      runs++;
      const before = (await keyStore.get(KeychainAccount.vaultKey))!;
      const delay = random.next() * elapsedMs;
      const r = await runVaultChild(['rekey', dir, `keytar:${service}`], {
        onLine: (line, child) => { if (line.ready) setTimeout(() => child.kill('SIGKILL'), delay); },
      });
      if (r.signal !== 'SIGKILL' || r.lines.some((l) => l.rekeyed)) {
        // The rotation finished before the kill landed (at most the exit was cut short): not a crash run.
        if (r.signal !== 'SIGKILL') expect(r.code, r.stderr.slice(-1000)).toBe(0);
        expect(r.lines.at(-1)).toMatchObject({ ok: true, rekeyed: true });
        await expectOpensIntact(dir, keyStore);
        continue;
      }
      killed++;
      await expectOpensIntact(dir, keyStore);
      const after = (await keyStore.get(KeychainAccount.vaultKey))!;
      const kept = after.equals(before);
      // The keychain's key is the file's key: the old one still opens the file exactly when the
      // keychain kept it (the kill came before the rekey committed), and never after.
      expect(keyOpens(dir, before, cipher), `old key after a kill at ${delay.toFixed(0)} ms`).toBe(kept);
      expect(keyOpens(dir, after, cipher)).toBe(true);
      landed[kept ? 'beforeCommit' : 'afterCommit']++;
    }
    console.log(`[rekey ${cipher}] seed ${random.seed}: ${killed} of ${runs} runs killed (${landed.beforeCommit} before the commit, ${landed.afterCommit} after)`);
    expect(killed).toBeGreaterThanOrEqual(RANDOM_KILLS);
  });
});
