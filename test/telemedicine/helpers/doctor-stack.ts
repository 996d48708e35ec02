/**
 * The real-server telemedicine tests' common start: an enrolled workstation (real keychain entry of
 * its own, SQLCipher vault) with the demo physician signed in and a first sync done, and the
 * teardown that closes it, the server and the temp folders.
 */
import { randomUUID } from 'node:crypto';
import type { RunningServer } from '../../../src-server/index';
import { createKeytarKeyStore } from '../../../src-main/core/keychain';
import type { Workstation } from '../../../src-main/core/workstation';
import { ok, startEnrolledWorkstation, tempDirs } from '../../session/real-stack';

export async function doctorWorkstation(
  server: RunningServer,
  dirs: ReturnType<typeof tempDirs>,
  opts: { name: string; syncIntervalMs?: number },
): Promise<Workstation> {
  const ws = await startEnrolledWorkstation(server, {
    dataDir: dirs.make('ehr-ws-'),
    keyStore: createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`),
    name: opts.name,
    ...(opts.syncIntervalMs ? { syncIntervalMs: opts.syncIntervalMs } : {}),
  });
  await ok(ws.invoke('auth.login', { username: 'doctor', password: 'demo-doctor-2026' }));
  await ok(ws.invoke('sync.now', {}));
  return ws;
}

export async function closeStack(ws: Workstation | undefined, server: RunningServer | undefined, dirs: ReturnType<typeof tempDirs>): Promise<void> {
  await ws?.close();
  await server?.close();
  dirs.removeAll();
}
