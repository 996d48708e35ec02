/**
 * Integration harness: the REAL sync server (startServer, PGlite by default or PostgreSQL when
 * asked — required then, never replaced by PGlite) and real client cores (vault + pinned client + sync engine) talking to it over loopback TLS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { startServer, type RunningServer, type StartServerOptions } from '../../../src-server/index';
import { openVault, type Vault } from '../../../src-main/core/vault';
import { createMemoryKeyStore } from '../../../src-main/core/keychain';
import { createServerClient, type ServerClient } from '../../../src-main/core/sync/server-client';
import { createSyncEngine, type SyncEngine, type SyncEngineOptions } from '../../../src-main/core/sync';
import { freshDatabase } from '../../helpers/postgres';

export const CANARY_FAMILY = 'Canarywhistle';
export const CANARY_GIVEN = 'Zebediah';
export const CANARY_MRN = 'CANARY-MRN-0042';

const cleanups: (() => Promise<void> | void)[] = [];
export async function cleanupAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ehr-sync-${prefix}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  logs: string[];
  restart(): Promise<TestServer>;
}

/**
 * Relaxed access-rate monitor: initial syncs unwrap many patients' keys in one hour by design.
 * `postgres: true` runs on a fresh database of the test cluster, and fails without one (never
 * PGlite in its place); a restart keeps that database.
 */
export async function startTestServer(opts: Partial<StartServerOptions> & { postgres?: boolean } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir('server');
  const logs: string[] = [];
  const { postgres, ...rest } = opts;
  const databaseUrl = rest.databaseUrl ?? (postgres ? await freshDatabase() : undefined);
  const options: StartServerOptions = {
    dataDir, port: 0, seed: 'demo', demoPatients: 6,
    config: { rateMonitor: { factor: 3, trailingHours: 168, minAccesses: 1_000_000 } },
    log: (line) => logs.push(JSON.stringify(line)),
    ...rest,
    ...(databaseUrl ? { databaseUrl } : {}),
  };
  const running = await startServer(options);
  let closed = false;
  const server: TestServer = {
    ...running,
    dataDir,
    logs,
    close: async () => {
      if (closed) return;
      closed = true;
      await running.close();
    },
    // Same data dir and port: clients keep their URL and pin across the restart.
    restart: async () => {
      await server.close();
      return startTestServer({ ...rest, ...(databaseUrl ? { databaseUrl } : {}), dataDir, port: running.port, seed: 'none' });
    },
  };
  cleanups.push(() => server.close());
  return server;
}

export interface Workstation {
  vault: Vault;
  client: ServerClient;
  engine: SyncEngine;
  dir: string;
}

/** An enrolled workstation with a signed-in user. */
export async function makeWorkstation(server: Pick<RunningServer, 'url' | 'fingerprint' | 'issueEnrollmentCode'>, login: { username: string; password: string }, engineOpts: Partial<SyncEngineOptions> = {}, dir?: string): Promise<Workstation> {
  const wsDir = dir ?? tempDir('ws');
  const vault = await openVault({ dir: wsDir, keyStore: sharedKeyStore(wsDir) });
  const client = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: vault.device.deviceId });
  if (!dir) await client.enroll({ code: await server.issueEnrollmentCode(), publicKey: vault.device.publicKeyRaw, name: 'test workstation' });
  await client.login(login);
  const engine = createSyncEngine({ vault, client, intervalMs: 3_600_000, backoff: { baseMs: 50, capMs: 400 }, ...engineOpts });
  cleanups.push(async () => {
    await engine.stop();
    client.close();
    vault.close();
  });
  return { vault, client, engine, dir: wsDir };
}

/** Key stores by workstation dir, so a "restarted" workstation opens its own vault again. */
const keyStores = new Map<string, ReturnType<typeof createMemoryKeyStore>>();
function sharedKeyStore(dir: string) {
  let ks = keyStores.get(dir);
  if (!ks) {
    ks = createMemoryKeyStore();
    keyStores.set(dir, ks);
  }
  return ks;
}

/**
 * What the session core does on a clinical write: resource + outbox row + audit entry in ONE
 * vault transaction (a stand-in here; the real one is src-main/core/api).
 */
export function saveLocally(vault: Vault, resource: Resource & { id: string }, patientId: string, userId = 'u-physician'): string {
  const mutationId = randomUUID();
  vault.transaction(() => {
    const existing = vault.resources.get(resource.id);
    const baseVersion = existing?.version ?? 0;
    vault.resources.put({ resource, patientId, version: baseVersion, status: 'pending' });
    vault.outbox.enqueue({ mutationId, recordId: resource.id, patientId, resourceType: resource.resourceType, baseVersion, op: existing ? 'update' : 'create', payload: resource });
    vault.audit.append({ action: existing ? 'U' : 'C', type: existing ? 'update' : 'create', outcome: 'success', severity: 'info', userId, role: 'physician', patientId, correlationId: mutationId });
  });
  return mutationId;
}

export function note(id: string, patientId: string, text: string): Resource & { id: string } {
  return {
    resourceType: 'Observation', id, status: 'final',
    code: { text: 'Clinical note' }, subject: { reference: `Patient/${patientId}` }, valueString: text,
  } as Resource & { id: string };
}

export const DOCTOR = { username: 'doctor', password: 'demo-doctor-2026' };
export const NURSE = { username: 'nurse', password: 'demo-nurse-2026' };
export const DOCTOR2 = { username: 'doctor2', password: 'demo-doctor2-2026' };
export const ADMIN = { username: 'admin', password: 'demo-admin-2026' };
