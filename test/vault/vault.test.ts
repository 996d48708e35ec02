/**
 * The vault's behaviour: first run and reopen through the real keychain, encryption at rest, each
 * repository, "one write" atomicity, append-only audit, and search (accents, case, prefixes,
 * injection strings). Canary PHI is planted and must never be readable on disk or in an error.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '@medplum/fhirtypes';
import Database from 'better-sqlite3-multiple-ciphers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKeytarKeyStore, createMemoryKeyStore, KeychainAccount } from '../../src-main/core/keychain';
import { openVault, patientInputFromFhir, SCHEMA_VERSION, VaultError, type Vault } from '../../src-main/core/vault';
import { MIGRATIONS, migrate } from '../../src-main/core/vault/migrations';
import { createPatientRepository } from '../../src-main/core/vault/repos/patients';
import { EhrError } from '../../src-shared/errors';
import { CANARY, canaryPatient, dirContainsPlaintext, removeDir, repoRoot, tempDir, uniqueService, unlockTestKeyring } from './helpers';

function observation(id: string, patientId: string, value = 72): Observation {
  return { resourceType: 'Observation', id, status: 'final', code: { text: 'Heart rate' }, subject: { reference: `Patient/${patientId}` }, valueQuantity: { value, unit: '/min' } };
}

const read = (patientId: string, correlationId = 'corr-1') =>
  ({ action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'user-1', role: 'nurse', patientId, correlationId }) as const;

describe('first run and reopen (real keychain)', () => {
  let dir: string;
  beforeEach(async () => {
    await unlockTestKeyring();
    dir = tempDir();
  });
  afterEach(() => removeDir(dir));

  it('creates a 256-bit key in the keychain, and reopens with it', async () => {
    const keyStore = createKeytarKeyStore(uniqueService());
    const vault = await openVault({ dir, keyStore });
    const key = await keyStore.get(KeychainAccount.vaultKey);
    expect(key).toHaveLength(32);
    vault.patients.upsert(canaryPatient());
    vault.close();

    const again = await openVault({ dir, keyStore });
    expect((await keyStore.get(KeychainAccount.vaultKey))?.equals(key!)).toBe(true); // not re-created
    expect(again.patients.getById('pat-canary')?.familyName).toBe(CANARY.family);
    expect(again.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(again.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    again.close();
    await keyStore.delete(KeychainAccount.vaultKey);
    await keyStore.delete(KeychainAccount.deviceSigningKey);
  });

  it('first run with the keychain unreachable: refuses, and creates neither a key nor a file', async () => {
    const keyStore = createMemoryKeyStore();
    keyStore.unavailable = true;
    const err = await openVault({ dir, keyStore }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'KeychainUnavailableError', code: 'KEYCHAIN_UNAVAILABLE' });
    expect(readdirSync(dir)).toEqual([]);
    keyStore.unavailable = false;
    expect(keyStore.accounts()).toEqual([]);
  });

  it('keeps canary PHI unreadable in every file of the vault folder (db, WAL, meta)', async () => {
    const keyStore = createMemoryKeyStore();
    const vault = await openVault({ dir, keyStore });
    vault.transaction(() => {
      vault.patients.upsert(canaryPatient());
      vault.resources.put({ resource: { ...observation('obs-c', 'pat-canary'), note: [{ text: `${CANARY.given} ${CANARY.family} chest pain` }] }, patientId: 'pat-canary', version: 0 });
      vault.drafts.save({ id: 'd1', userId: 'user-1', patientId: 'pat-canary', content: { text: CANARY.family } });
    });
    // While open (WAL holds the latest pages) and after close (checkpointed into the db).
    expect(readdirSync(dir)).toContain('vault.db-wal');
    expect(dirContainsPlaintext(dir)).toEqual([]);
    expect(statSync(join(dir, 'vault.db')).mode & 0o077).toBe(0);
    vault.close();
    expect(dirContainsPlaintext(dir)).toEqual([]);
  });
});

describe('repositories', () => {
  let dir: string;
  let vault: Vault;
  let keyStore: ReturnType<typeof createMemoryKeyStore>;
  beforeEach(async () => {
    dir = tempDir();
    keyStore = createMemoryKeyStore();
    vault = await openVault({ dir, keyStore });
  });
  afterEach(() => {
    if (!vault.closed) vault.close();
    removeDir(dir);
  });

  it('patients: search by name prefix, case- and accent-insensitive, MRN and date of birth', () => {
    vault.patients.upsert(canaryPatient());
    vault.patients.upsert({ id: 'p2', mrn: 'M-2', givenNames: 'Zoë Amélie', familyName: "O'Brien-Núñez", birthDate: '1960-05-04' });
    vault.patients.upsert({ id: 'p3', mrn: 'M-3', givenNames: 'Zeb', familyName: 'Smith', birthDate: '1931-02-28' });
    const ids = (q: Parameters<Vault['patients']['search']>[0]) => vault.patients.search(q).map((p) => p.id).sort();
    expect(ids({ name: 'zeb' })).toEqual(['p3', 'pat-canary']);
    expect(ids({ name: 'ZEB canary' })).toEqual(['pat-canary']);
    expect(ids({ name: 'nunez' })).toEqual(['p2']);
    expect(ids({ name: 'ZOE amel' })).toEqual(['p2']);
    expect(ids({ name: 'obrien' })).toEqual(['p2']);
    expect(ids({ name: 'brien' })).toEqual(['p2']);
    expect(ids({ mrn: 'canary-mrn-0042' })).toEqual(['pat-canary']);
    expect(ids({ birthDate: '1931-02-28' })).toEqual(['p3', 'pat-canary']);
    expect(ids({ name: 'zeb', birthDate: '1931-02-28', mrn: 'M-3' })).toEqual(['p3']);
    expect(ids({ name: 'nobody' })).toEqual([]);
    // Results come in family, given order and respect the limit.
    for (let i = 0; i < 5; i++) vault.patients.upsert({ id: `z${i}`, mrn: `Z-${i}`, givenNames: `Zed${4 - i}`, familyName: i % 2 ? 'Zulu' : 'Zeta', birthDate: '1990-01-01' });
    const names = (name: string, limit?: number) => vault.patients.search({ name, ...(limit ? { limit } : {}) }).map((p) => `${p.familyName} ${p.givenNames}`);
    // A broad query stops at the limit: the first matches in name-token order (zeb, zebediah, zed0), shown by name.
    expect(names('z', 3)).toEqual(['Canarywhistle Zebediah', 'Smith Zeb', 'Zeta Zed0']);
    expect(names('ze')).toEqual(['Canarywhistle Zebediah', 'Smith Zeb', 'Zeta Zed0', 'Zeta Zed2', 'Zeta Zed4', 'Zulu Zed1', 'Zulu Zed3']);
    expect(ids({})).toEqual([]); // no criteria never lists everyone
  });

  it('patients: re-upsert replaces the search tokens (an old name no longer finds the patient)', () => {
    vault.patients.upsert(canaryPatient());
    vault.patients.upsert({ ...canaryPatient(), familyName: 'Renamed' });
    expect(vault.patients.search({ name: 'canary' })).toEqual([]);
    expect(vault.patients.search({ name: 'renamed' }).map((p) => p.id)).toEqual(['pat-canary']);
  });

  it('patients: SQL-injection strings are data, not SQL', () => {
    vault.patients.upsert(canaryPatient());
    const attacks = ["' OR 1=1 --", "zeb'; DROP TABLE patients; --", '%', '_', "x' UNION SELECT * FROM verifiers --"];
    for (const name of attacks) {
      expect(vault.patients.search({ name }).filter((p) => p.id !== 'pat-canary' || !name.includes('zeb'))).toEqual([]);
      expect(vault.patients.search({ mrn: name })).toEqual([]);
    }
    vault.patients.upsert({ id: "p'; DROP TABLE patients; --", mrn: "M'--", givenNames: "Robert'); DROP", familyName: 'Tables', birthDate: '2001-01-01' });
    expect(vault.patients.getById("p'; DROP TABLE patients; --")?.familyName).toBe('Tables');
    expect(vault.patients.count()).toBe(2);
  });

  it('patients: imports demographics from a FHIR Patient, and rejects bad dates with a PHI-free error', () => {
    const input = patientInputFromFhir({
      resourceType: 'Patient', id: 'pf', birthDate: '1980-03-01',
      identifier: [{ type: { coding: [{ code: 'MR' }] }, value: 'MRN-77' }], name: [{ use: 'official', given: ['Ana', 'María'], family: 'Pérez' }],
    });
    expect(vault.patients.upsert(input)).toMatchObject({ id: 'pf', mrn: 'MRN-77', givenNames: 'Ana María', familyName: 'Pérez' });
    expect(vault.patients.search({ name: 'perez maria' }).map((p) => p.id)).toEqual(['pf']);
    const err = (() => { try { vault.patients.upsert({ ...canaryPatient(), birthDate: 'born 1931' }); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(EhrError);
    expect(JSON.stringify((err as EhrError).toJSON())).not.toMatch(/Canary|Zebediah|CANARY-MRN|1931/);
  });

  it('resources: validated with Medplum on write; invalid ones are refused without echoing values', () => {
    vault.patients.upsert(canaryPatient());
    const saved = vault.resources.put({ resource: observation('obs-1', 'pat-canary'), patientId: 'pat-canary', version: 0 });
    expect(saved).toMatchObject({ id: 'obs-1', resourceType: 'Observation', status: 'pending', version: 0 });
    const bad = { ...observation('obs-2', 'pat-canary'), canaryField: CANARY.family } as unknown as Observation;
    const err = (() => { try { vault.resources.put({ resource: bad, patientId: 'pat-canary', version: 0 }); } catch (e) { return e as EhrError; } })();
    expect(err?.code).toBe('INVALID');
    expect(err?.detail).toMatchObject({ resourceType: 'Observation' });
    expect(JSON.stringify(err?.toJSON())).not.toContain(CANARY.family);
    expect(vault.resources.get('obs-2')).toBeNull();
    expect(() => vault.resources.put({ resource: { resourceType: 'NotAThing', id: 'x' } as never, patientId: null, version: 0 })).toThrow(EhrError);
  });

  it('resources: status, conflict kept beside ours, tombstones, listing by patient', () => {
    vault.resources.put({ resource: observation('o1', 'p1', 70), patientId: 'p1', version: 1, status: 'synced' });
    vault.resources.put({ resource: observation('o2', 'p1', 80), patientId: 'p1', version: 0 });
    vault.resources.put({ resource: observation('o3', 'p2', 90), patientId: 'p2', version: 0 });
    expect(vault.resources.listByPatient('p1').map((r) => r.id).sort()).toEqual(['o1', 'o2']);
    expect(vault.resources.listByStatus('pending').map((r) => r.id).sort()).toEqual(['o2', 'o3']);
    expect(vault.resources.setStatus('o2', 'synced', 3)).toBe(true);
    expect(vault.resources.get('o2')).toMatchObject({ status: 'synced', version: 3 });
    vault.resources.markConflict('o1', { version: 2, resource: observation('o1', 'p1', 75) });
    expect(vault.resources.get('o1')?.status).toBe('conflict');
    expect((vault.resources.get('o1')?.resource as Observation).valueQuantity?.value).toBe(70); // ours is untouched
    expect((vault.resources.getConflict('o1')?.resource as Observation).valueQuantity?.value).toBe(75);
    vault.resources.markDeleted('o3');
    expect(vault.resources.listByPatient('p2')).toEqual([]);
    expect(vault.resources.get('o3')?.status).toBe('deleted');
  });

  it('one write: resource + outbox + audit commit together or not at all', () => {
    vault.patients.upsert(canaryPatient());
    vault.transaction(() => {
      vault.resources.put({ resource: observation('o1', 'pat-canary'), patientId: 'pat-canary', version: 0 });
      vault.outbox.enqueue({ mutationId: 'm1', recordId: 'o1', patientId: 'pat-canary', resourceType: 'Observation', baseVersion: 0, op: 'create', payload: { id: 'o1' } });
      vault.audit.append({ ...read('pat-canary'), action: 'C', type: 'create' });
    });
    expect([vault.resources.count(), vault.outbox.count(), vault.audit.count()]).toEqual([1, 1, 1]);

    expect(() => vault.transaction(() => {
      vault.resources.put({ resource: observation('o2', 'pat-canary'), patientId: 'pat-canary', version: 0 });
      vault.audit.append({ ...read('pat-canary'), action: 'C', type: 'create' });
      // Duplicate mutation id: the outbox refuses, and everything above must roll back with it.
      vault.outbox.enqueue({ mutationId: 'm1', recordId: 'o2', patientId: 'pat-canary', resourceType: 'Observation', baseVersion: 0, op: 'create', payload: {} });
    })).toThrow(EhrError);
    expect([vault.resources.count(), vault.outbox.count(), vault.audit.count()]).toEqual([1, 1, 1]);
    expect(vault.resources.get('o2')).toBeNull();
    // A caller's own error rolls back too, and reaches the caller unchanged.
    expect(() => vault.transaction(() => {
      vault.outbox.enqueue({ mutationId: 'm9', recordId: 'o9', patientId: null, resourceType: 'Observation', baseVersion: 0, op: 'create', payload: {} });
      throw new TypeError('caller gave up');
    })).toThrow(TypeError);
    expect(vault.outbox.get('m9')).toBeNull();
    // The chain continues from the committed head, not from the rolled-back entry.
    vault.audit.append(read('pat-canary'));
    expect(vault.audit.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it('outbox: due rows in order, attempts with backoff, removal on acknowledgement', () => {
    const base = { recordId: 'r', patientId: 'p', resourceType: 'Observation', baseVersion: 0, op: 'update' as const, payload: { a: 1 } };
    const s1 = vault.outbox.enqueue({ ...base, mutationId: 'm1' });
    const s2 = vault.outbox.enqueue({ ...base, mutationId: 'm2' });
    expect(s2).toBeGreaterThan(s1);
    vault.outbox.recordAttempt(s1, new Date(Date.now() + 60_000), 'OFFLINE');
    expect(vault.outbox.due().map((r) => r.mutationId)).toEqual(['m2']);
    expect(vault.outbox.due(new Date(Date.now() + 120_000)).map((r) => r.mutationId)).toEqual(['m1', 'm2']);
    expect(vault.outbox.get('m1')).toMatchObject({ attempts: 1, lastError: 'OFFLINE', payload: { a: 1 } });
    expect(vault.outbox.remove('m1')).toBe(true);
    expect(vault.outbox.list().map((r) => r.mutationId)).toEqual(['m2']);
  });

  it('audit: append-only (SQL update/delete refused), signed chain, unpushed queue', () => {
    for (let i = 0; i < 5; i++) vault.audit.append(read('p1', `c${i}`));
    expect(vault.audit.verify()).toMatchObject({ ok: true, count: 5 });
    expect(() => vault.db.prepare("UPDATE audit_log SET entry = '{}' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => vault.db.prepare('DELETE FROM audit_log WHERE seq = 5').run()).toThrow(/append-only/);
    expect(vault.audit.markPushed(3)).toBe(3);
    expect(() => vault.db.prepare('UPDATE audit_log SET pushed = 0').run()).toThrow(/append-only/);
    expect(vault.audit.listUnpushed().map((e) => e.seq)).toEqual([4, 5]);
    const entries = vault.audit.list();
    expect(entries.every((e) => e.deviceId === vault.device.deviceId)).toBe(true);
    expect(entries[1]?.prevHash).toBe(entries[0]?.hash);
  });

  it('audit: appendMany links a batch in one transaction', () => {
    const batch = vault.audit.appendMany(Array.from({ length: 50 }, (_, i) => read('p1', `b${i}`)));
    expect(batch.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(vault.audit.verify()).toMatchObject({ ok: true, count: 50 });
  });

  it('drafts are per user: another user cannot read, overwrite or delete them by id', () => {
    vault.drafts.save({ id: 'd1', userId: 'alice', patientId: 'p1', resourceType: 'Observation', content: { hr: 80 } });
    expect(vault.drafts.get('d1', 'mallory')).toBeNull();
    expect(vault.drafts.save({ id: 'd1', userId: 'mallory', content: { hr: 1 } })).toBeNull();
    expect(vault.drafts.delete('d1', 'mallory')).toBe(false);
    expect(vault.drafts.get('d1', 'alice')?.content).toEqual({ hr: 80 });
    expect(vault.drafts.listForUser('alice', 'p1')).toHaveLength(1);
    expect(vault.drafts.delete('d1', 'alice')).toBe(true);
  });

  it('data keys: newest unexpired key per patient; expired ones are not served and purge', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    vault.dataKeys.put({ patientId: 'p1', keyId: 'k1', key: k1, expiresAt: new Date(Date.now() - 1000).toISOString() });
    vault.dataKeys.put({ patientId: 'p1', keyId: 'k2', key: k2, expiresAt: null });
    expect(vault.dataKeys.get('p1', 'k1')).toBeNull();
    expect(vault.dataKeys.get('p1')?.key.equals(k2)).toBe(true);
    expect(vault.dataKeys.purgeExpired()).toBe(1);
    expect(() => vault.dataKeys.put({ patientId: 'p1', keyId: 'bad', key: randomBytes(16), expiresAt: null })).toThrow(/data key is not valid/);
  });

  it('verifiers: case-insensitive username, failures counted, reset by an online login', () => {
    vault.verifiers.upsert({ userId: 'u1', username: 'NNurse', hash: '$argon2id$v=19$m=19456,t=2,p=1$x$y', roles: ['nurse'], lastOnlineLoginAt: new Date().toISOString() });
    expect(vault.verifiers.getByUsername('nnurse')?.roles).toEqual(['nurse']);
    expect(vault.verifiers.recordFailure('u1')).toBe(1);
    const until = new Date(Date.now() + 60_000).toISOString();
    expect(vault.verifiers.recordFailure('u1', until)).toBe(2);
    expect(vault.verifiers.getById('u1')?.lockedUntil).toBe(until);
    vault.verifiers.upsert({ userId: 'u1', username: 'NNurse', hash: 'h2', roles: ['nurse'], lastOnlineLoginAt: new Date().toISOString() });
    expect(vault.verifiers.getById('u1')).toMatchObject({ failedCount: 0, lockedUntil: null, hash: 'h2' });
  });

  it('kv: strings and JSON; device id stable across reopen', async () => {
    vault.kv.setJson('sync.cursor', { c: 42 });
    expect(vault.kv.getJson('sync.cursor')).toEqual({ c: 42 });
    const deviceId = vault.device.deviceId;
    const otherStore = createMemoryKeyStore();
    const d2 = tempDir();
    const v2 = await openVault({ dir: d2, keyStore: otherStore });
    expect(v2.device.deviceId).not.toBe(deviceId);
    const id2 = v2.device.deviceId;
    v2.close();
    const v3 = await openVault({ dir: d2, keyStore: otherStore });
    expect(v3.device.deviceId).toBe(id2);
    v3.close();
    removeDir(d2);
  });

  it('rekey with the keychain unreachable fails cleanly; the vault keeps working under its old key', async () => {
    vault.patients.upsert(canaryPatient());
    const oldKey = await keyStore.get(KeychainAccount.vaultKey);
    keyStore.unavailable = true;
    await expect(vault.rekey()).rejects.toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    keyStore.unavailable = false;
    expect(vault.closed).toBe(false);
    expect(vault.patients.getById('pat-canary')?.familyName).toBe(CANARY.family);
    vault.close();
    expect((await keyStore.get(KeychainAccount.vaultKey))?.equals(oldKey!)).toBe(true);
    const again = await openVault({ dir, keyStore });
    expect(again.patients.count()).toBe(1);
    again.close();
  });

  it('opens with an explicit native binding path and page-cache size (what the Electron shell passes)', async () => {
    vault.close();
    const nativeBinding = join(repoRoot, 'node_modules', 'better-sqlite3-multiple-ciphers', 'build', 'Release', 'better_sqlite3.node');
    const again = await openVault({ dir, keyStore, nativeBinding, cacheSizeMb: 16 });
    expect(again.db.pragma('cache_size', { simple: true })).toBe(-16 * 1024);
    again.close();
    const wrong = await openVault({ dir, keyStore, nativeBinding: join(dir, 'missing.node') }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(Error);
    expect(wrong).not.toBeInstanceOf(VaultError); // a missing engine is not reported as a damaged vault
  });

  it('a closed vault refuses use with a named error', () => {
    vault.close();
    expect(() => vault.patients).toThrow(VaultError);
    expect(() => vault.transaction(() => 1)).toThrow(/closed/);
  });

  it('migrations: applies only newer steps, each atomically (a failing step leaves the previous version)', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toBe(SCHEMA_VERSION);
    createPatientRepository(db).upsert(canaryPatient());
    const next = SCHEMA_VERSION + 1;
    const steps = [...MIGRATIONS, { version: next, description: 'test column', sql: 'ALTER TABLE kv ADD COLUMN note TEXT;' }];
    expect(migrate(db, steps)).toBe(next);
    expect(migrate(db, steps)).toBe(next); // idempotent
    const broken = [...steps, { version: next + 1, description: 'broken', sql: 'CREATE TABLE half (a); SELECT no_such_function();' }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(next);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    expect(createPatientRepository(db).getById('pat-canary')?.familyName).toBe(CANARY.family);
    db.close();
  });

  it('migrations: refuses a vault from a newer app version', async () => {
    vault.db.pragma(`user_version=${SCHEMA_VERSION + 1}`);
    vault.close();
    const err = await openVault({ dir, keyStore }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).reason).toBe('SCHEMA_TOO_NEW');
  });
});
