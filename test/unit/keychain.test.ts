/**
 * KeyStore implementations: the in-memory one other areas test with, and keytar against the real
 * gnome-keyring (scripts/keyring-session.sh). "No keychain at all" runs keytar in a child process
 * whose D-Bus address points nowhere.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createKeytarKeyStore, createMemoryKeyStore, KeychainAccount, KeychainUnavailableError, loadOrCreateDeviceSigningKey,
} from '../../src-main/core/keychain';
import { repoRoot, uniqueService, unlockTestKeyring } from '../vault/helpers';

describe('in-memory KeyStore', () => {
  it('stores copies, deletes, and reports missing entries as null', async () => {
    const store = createMemoryKeyStore();
    const secret = randomBytes(32);
    await store.set('a', secret);
    secret.fill(0); // the caller wiping its buffer must not wipe the stored copy
    const got = await store.get('a');
    expect(got?.length).toBe(32);
    expect(got?.equals(Buffer.alloc(32))).toBe(false);
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect(await store.get('a')).toBeNull();
  });

  it('simulates an unavailable keychain with a named, secret-free error', async () => {
    const store = createMemoryKeyStore({ k: Buffer.from('s3cret-value') });
    store.unavailable = true;
    const err = await store.get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeychainUnavailableError);
    expect((err as KeychainUnavailableError).code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(JSON.stringify((err as KeychainUnavailableError).toJSON())).not.toContain('s3cret');
  });
});

describe('keytar KeyStore (real Secret Service)', () => {
  beforeEach(unlockTestKeyring);

  it('round-trips binary secrets and deletes them', async () => {
    const service = uniqueService();
    const store = createKeytarKeyStore(service);
    const secret = randomBytes(32);
    expect(await store.get('vault-key')).toBeNull();
    await store.set('vault-key', secret);
    // A second store on the same service sees the entry: it lives in the keyring, not in memory.
    expect((await createKeytarKeyStore(service).get('vault-key'))?.equals(secret)).toBe(true);
    expect(await store.delete('vault-key')).toBe(true);
    expect(await store.get('vault-key')).toBeNull();
  });

  it('keeps services apart', async () => {
    const a = createKeytarKeyStore(uniqueService());
    const b = createKeytarKeyStore(uniqueService());
    await a.set('x', Buffer.from('one'));
    expect(await b.get('x')).toBeNull();
    await a.delete('x');
  });

  it('creates the device signing key once and reads the same key afterwards', async () => {
    const store = createKeytarKeyStore(uniqueService());
    const first = await loadOrCreateDeviceSigningKey(store);
    const second = await loadOrCreateDeviceSigningKey(store);
    expect(second.publicKeyRaw).toBe(first.publicKeyRaw);
    expect(Buffer.from(first.publicKeyRaw, 'base64url')).toHaveLength(32);
    expect(await store.get(KeychainAccount.deviceSigningKey)).not.toBeNull();
    await store.delete(KeychainAccount.deviceSigningKey);
  });

  it('fails with KEYCHAIN_UNAVAILABLE when there is no keychain at all (no D-Bus session)', () => {
    const script = `
      import { createKeytarKeyStore } from './src-main/core/keychain';
      const store = createKeytarKeyStore('clinic-ehr-nowhere');
      store.get('vault-key').then(
        () => console.log(JSON.stringify({ ok: true })),
        (e) => console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message })));
    `;
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/ehr-no-bus' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, env, encoding: 'utf8', timeout: 30_000 });
    const line = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ ok: false, name: 'KeychainUnavailableError', code: 'KEYCHAIN_UNAVAILABLE' });
    expect(String(line.message)).toMatch(/keychain is unavailable/i);
  });
});
