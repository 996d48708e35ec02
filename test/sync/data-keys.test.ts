/** The data-key cache: fetch once, seal with the newest, drop when access ends, never lose an unwrapped local key. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openVault, type Vault } from '../../src-main/core/vault';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { createDataKeyService, DataKeyUnavailableError } from '../../src-main/core/crypto/data-keys';
import { EhrError } from '../../src-shared/errors';
import { backoffDelayMs } from '../../src-main/core/sync/backoff';
import { cleanupAll, tempDir } from './helpers/harness';

afterAll(cleanupAll);

/** A key service stand-in: p-1 has two keys; p-denied is forbidden; wraps are recorded. */
function fakeKeyServer() {
  const keys = new Map<string, { keyId: string; dataKey: string; createdAt: string }[]>([
    ['p-1', [
      { keyId: 'k-new', dataKey: randomBytes(32).toString('base64url'), createdAt: '2026-02-01T00:00:00.000Z' },
      { keyId: 'k-old', dataKey: randomBytes(32).toString('base64url'), createdAt: '2026-01-01T00:00:00.000Z' },
    ]],
    ['p-2', [{ keyId: 'k-2', dataKey: randomBytes(32).toString('base64url'), createdAt: '2026-01-01T00:00:00.000Z' }]],
  ]);
  const calls = { unwrap: 0, wrap: [] as { patientId: string; keyId: string }[] };
  return {
    calls,
    keys,
    client: {
      async unwrapKeys(req: { patientId: string; keyId?: string }) {
        calls.unwrap++;
        if (req.patientId === 'p-denied') throw new EhrError('FORBIDDEN', 'outside care team', { patientId: req.patientId });
        const list = (keys.get(req.patientId) ?? []).filter((k) => !req.keyId || k.keyId === req.keyId);
        return { patientId: req.patientId, keys: list };
      },
      async wrapKey(req: { patientId: string; keyId: string; dataKey: string }) {
        calls.wrap.push({ patientId: req.patientId, keyId: req.keyId });
        return { patientId: req.patientId, keyId: req.keyId, createdAt: new Date().toISOString() };
      },
    },
  };
}

describe('data keys', () => {
  let vault: Vault;
  beforeEach(async () => {
    vault = await openVault({ dir: tempDir('keys'), keyStore: createMemoryKeyStore() });
    return () => vault.close();
  });

  it('fetches once, then seals with the newest key and opens with any, from the vault cache', async () => {
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client });
    const sealing = await keys.sealingKey('p-1');
    expect(sealing.keyId).toBe('k-new');
    expect(sealing.key.equals(Buffer.from(server.keys.get('p-1')![0]!.dataKey, 'base64url'))).toBe(true);
    expect((await keys.openingKey('p-1', 'k-old')).keyId).toBe('k-old');
    expect(server.calls.unwrap).toBe(1);
    // A new service over the same vault (a restart) needs no network.
    const again = createDataKeyService({ vault, client: server.client });
    expect((await again.sealingKey('p-1')).keyId).toBe('k-new');
    expect(server.calls.unwrap).toBe(1);
  });

  it('opens many patients\' keys in one batched unwrap: cached ones need no call, refusals are per key, fetched ones are cached', async () => {
    const server = fakeKeyServer();
    const batches: { patientId: string; keyId: string }[][] = [];
    const client = {
      ...server.client,
      async unwrapKeysBatch(req: { keys: { patientId: string; keyId: string }[] }) {
        batches.push(req.keys);
        const keys = req.keys.flatMap((w) => (server.keys.get(w.patientId) ?? []).filter((k) => k.keyId === w.keyId).map((k) => ({ patientId: w.patientId, ...k })));
        const refused = req.keys.filter((w) => !keys.some((k) => k.patientId === w.patientId && k.keyId === w.keyId))
          .map((w) => ({ ...w, code: w.patientId === 'p-denied' ? 'FORBIDDEN' as const : 'NOT_FOUND' as const }));
        return { keys, refused };
      },
    };
    const keys = createDataKeyService({ vault, client });
    await keys.openingKey('p-2', 'k-2'); // cached beforehand (one single unwrap)
    const got = await keys.openingKeys!([
      { patientId: 'p-1', keyId: 'k-old' }, { patientId: 'p-2', keyId: 'k-2' }, { patientId: 'p-denied', keyId: 'k' }, { patientId: 'p-1', keyId: 'k-gone' }, { patientId: 'p-1', keyId: 'k-old' },
    ]);
    expect(batches).toEqual([[{ patientId: 'p-1', keyId: 'k-old' }, { patientId: 'p-denied', keyId: 'k' }, { patientId: 'p-1', keyId: 'k-gone' }]]);
    expect((got.get('p-1\u0000k-old') as { keyId: string }).keyId).toBe('k-old');
    expect((got.get('p-2\u0000k-2') as { keyId: string }).keyId).toBe('k-2');
    expect(got.get('p-denied\u0000k')).toMatchObject({ code: 'FORBIDDEN' });
    expect(got.get('p-1\u0000k-gone')).toBeInstanceOf(DataKeyUnavailableError);
    expect(server.calls.unwrap).toBe(1);
    // Cached now: opening again needs no network at all.
    expect((await keys.openingKey('p-1', 'k-old')).keyId).toBe('k-old');
    expect(server.calls.unwrap).toBe(1);
    expect(batches.length).toBe(1);
  });

  it('refusals surface as errors and cache nothing', async () => {
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client });
    await expect(keys.sealingKey('p-denied')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(keys.sealingKey('p-none')).rejects.toBeInstanceOf(DataKeyUnavailableError);
    await expect(keys.openingKey('p-1', 'k-missing')).rejects.toBeInstanceOf(DataKeyUnavailableError);
    expect(keys.cachedPatientIds()).toEqual([]);
  });

  it('break-glass keys expire with their grant', async () => {
    let now = new Date('2026-03-01T10:00:00.000Z');
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client, now: () => now });
    await keys.fetchForGrant('p-2', '2026-03-01T11:00:00.000Z');
    expect(keys.cachedKey('p-2')?.keyId).toBe('k-2');
    now = new Date('2026-03-01T11:00:01.000Z');
    expect(keys.cachedKey('p-2')).toBeNull();
    expect(keys.dropExpired()).toBe(1);
    expect(keys.cachedPatientIds()).toEqual([]);
  });

  it('a care-team change drops other patients but never an unwrapped key created here', async () => {
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client });
    await keys.sealingKey('p-1');
    await keys.sealingKey('p-2');
    const local = keys.createForNewPatient('p-new');
    expect(keys.retainOnly(new Set(['p-2'])).sort()).toEqual(['p-1']);
    expect(keys.cachedPatientIds().sort()).toEqual(['p-2', 'p-new']);
    // Once wrapped on the server it is like any other key.
    expect(await keys.wrapPending()).toBe(1);
    expect(server.calls.wrap).toEqual([{ patientId: 'p-new', keyId: local.keyId }]);
    expect(keys.hasPendingWrap('p-new')).toBe(false);
    expect(keys.retainOnly(new Set(['p-2']))).toEqual(['p-new']);
    expect(keys.dropAll()).toBe(1);
    expect(keys.cachedPatientIds()).toEqual([]);
  });

  it('the chart goes with the keys, except a chart the session core still grants locally (offline break-glass)', async () => {
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client });
    await keys.sealingKey('p-1');
    await keys.sealingKey('p-2');
    for (const id of ['p-1', 'p-2']) {
      vault.patients.upsert({ id, mrn: `MRN-${id}`, givenNames: 'Ann', familyName: `Family${id.slice(2)}`, birthDate: '1980-01-01' });
      vault.resources.put({ resource: { resourceType: 'Patient', id }, patientId: id, version: 1, status: 'synced' });
    }
    expect(keys.retainOnly(new Set(), new Set(['p-2'])).sort()).toEqual(['p-1', 'p-2']);
    expect(keys.cachedPatientIds()).toEqual([]);
    expect(vault.patients.getById('p-1')).toBeNull();
    expect(vault.resources.get('p-1')).toBeNull();
    expect(vault.patients.getById('p-2')).not.toBeNull();
    expect(vault.resources.get('p-2')).not.toBeNull();
    // Nothing left to drop: not reported again on the next cycle; once the local grant ends it goes.
    expect(keys.retainOnly(new Set(), new Set(['p-2']))).toEqual([]);
    expect(keys.retainOnly(new Set())).toEqual(['p-2']);
    expect(vault.cachedPatientIds()).toEqual([]);
  });

  it('keys are never on disk in the clear (the vault file is encrypted)', async () => {
    const server = fakeKeyServer();
    const keys = createDataKeyService({ vault, client: server.client });
    const k = await keys.sealingKey('p-1');
    vault.db.pragma('wal_checkpoint(TRUNCATE)');
    const { readFileSync, readdirSync } = await import('node:fs');
    const onDisk = Buffer.concat(readdirSync(vault.dir).map((f) => readFileSync(`${vault.dir}/${f}`)));
    expect(onDisk.includes(k.key)).toBe(false);
    expect(onDisk.includes(Buffer.from('k-new'))).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially with full jitter, capped, never zero', () => {
    const opts = { baseMs: 100, capMs: 1_000 };
    expect(backoffDelayMs(1, { ...opts, random: () => 0.999 })).toBe(99);
    expect(backoffDelayMs(3, { ...opts, random: () => 0.999 })).toBe(399);
    expect(backoffDelayMs(20, { ...opts, random: () => 0.999 })).toBe(999);
    expect(backoffDelayMs(5, { ...opts, random: () => 0 })).toBe(10);
    const samples = Array.from({ length: 200 }, () => backoffDelayMs(4, opts));
    expect(new Set(samples).size).toBeGreaterThan(50);
    expect(Math.max(...samples)).toBeLessThanOrEqual(800);
  });
});
