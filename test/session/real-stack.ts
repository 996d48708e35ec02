/**
 * The session tests' real stack: a workstation core on the real OS keychain, enrolled with the
 * real sync server (over pinned TLS), plus the small helpers those tests share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../src-server/index';
import { KeychainAccount, KeychainUnavailableError, type KeyStore } from '../../src-main/core/keychain';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { createWorkstation, type Workstation, type WorkstationOptions } from '../../src-main/core/workstation';
import { unlockTestKeyring } from '../vault/helpers';

/** Temporary folders made by a test file, removed together in afterAll. */
export function tempDirs(): { make(prefix: string): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make(prefix) {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    removeAll() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** The value of a successful API call; a refusal fails the test with its (PHI-free) error. */
export async function ok<T>(p: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`call failed: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

/**
 * Starts a workstation on the real keychain and enrolls its device with the server.
 * `serverUrl` may differ from the server's own (e.g. a relay the test can cut).
 */
export async function startEnrolledWorkstation(
  server: RunningServer,
  opts: { dataDir: string; keyStore: KeyStore; name: string; serverUrl?: string } & Partial<WorkstationOptions>,
): Promise<Workstation> {
  const { name, serverUrl, ...rest } = opts;
  await unlockTestKeyring();
  let ws: Workstation;
  // On a loaded machine the private keyring daemon occasionally answers its first calls late; the
  // workstation refuses to start without it (as it must), so the test retries the start, not the rule.
  for (let attempt = 1; ; attempt++) {
    try {
      ws = await createWorkstation({ ...rest, server: { url: serverUrl ?? server.url, fingerprint: server.fingerprint } });
      break;
    } catch (e) {
      if (attempt === 3 || !(e instanceof KeychainUnavailableError)) throw e;
      await unlockTestKeyring();
    }
  }
  const enrol = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: ws.deviceId });
  await enrol.enroll({ code: await server.issueEnrollmentCode(), publicKey: ws.vault.device.publicKeyRaw, name });
  enrol.close();
  return ws;
}

/** A TCP relay to the server that can be cut and restored on the same port. */
export function relay(targetPort: number) {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  let port = 0;
  const listen = () => new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', () => {
    port = (srv.address() as net.AddressInfo).port;
    resolve();
  }));
  return {
    get port() {
      return port;
    },
    up: listen,
    async down(): Promise<void> {
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** Removes the workstation's keys from the (real) keychain after a test; a missing entry is fine. */
export async function forgetWorkstationKeys(keyStore: KeyStore | undefined): Promise<void> {
  for (const account of Object.values(KeychainAccount)) await keyStore?.delete(account).catch(() => false);
}
