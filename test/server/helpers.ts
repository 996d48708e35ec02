/**
 * Test kit for the sync server: runs the real server (HTTPS on loopback) on PGlite and on a fresh
 * PostgreSQL database of the test cluster (scripts/postgres-session.sh; required, never skipped).
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type StartServerOptions } from '../../src-server/index';
import type { LogLine } from '../../src-server/http/log';
import { CORRELATION_HEADER, type TokenResponse } from '../../src-shared/sync';
import type { AuditEntry, AuditEntryInput } from '../../src-shared/audit';
import { linkEntry, type ChainHead } from '../../src-shared/node/audit-chain';
import { freshDatabase } from '../helpers/postgres';

export { freshDatabase };

export interface Variant {
  name: 'pglite' | 'postgres';
  /** A fresh database URL per call (postgres only). */
  databaseUrl?: () => Promise<string>;
}

/**
 * Both engines, always: the PostgreSQL variant fails (test/helpers/postgres.ts) rather than being
 * left out when the run has no cluster.
 */
export const VARIANTS: Variant[] = [{ name: 'pglite' }, { name: 'postgres', databaseUrl: freshDatabase }];

export interface TestServer extends RunningServer {
  dir: string;
  logs: LogLine[];
  databaseUrl?: string;
  stop(): Promise<void>;
}

export async function startTestServer(variant: Variant, opts: Partial<StartServerOptions> & { databaseUrl?: string } = {}): Promise<TestServer> {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ehr-srv-'));
  const databaseUrl = opts.databaseUrl ?? (variant.databaseUrl ? await variant.databaseUrl() : undefined);
  const logs: LogLine[] = [];
  const server = await startServer({ port: 0, seed: 'demo', demoPatients: 12, ...opts, dataDir: dir, databaseUrl, log: (l) => logs.push(l) });
  return Object.assign(server, {
    dir, logs, ...(databaseUrl ? { databaseUrl } : {}),
    stop: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface Res<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** HTTPS JSON call trusting only the server's own CA (as a pinned client would). */
export function call<T = unknown>(
  server: { url: string; caCert?: string | undefined },
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; token?: string; correlation?: string | false; headers?: Record<string, string> } = {},
): Promise<Res<T>> {
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.correlation !== false) headers[CORRELATION_HEADER] = opts.correlation ?? `corr-${randomUUID()}`;
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, ca: server.caCert, minVersion: 'TLSv1.3' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: body as T, text, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface EnrolledDevice {
  deviceId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function enrollDevice(server: RunningServer): Promise<EnrolledDevice> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const deviceId = `dev-${randomUUID()}`;
  const code = await server.issueEnrollmentCode();
  const res = await call(server, 'POST', '/v1/devices/enroll', {
    body: { code, deviceId, publicKey: (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64url') },
  });
  if (res.status !== 200) throw new Error(`enroll failed ${res.status} ${res.text}`);
  return { deviceId, privateKey, publicKey };
}

export const DEMO = {
  nurse: { username: 'nurse', password: 'demo-nurse-2026' },
  doctor: { username: 'doctor', password: 'demo-doctor-2026' },
  doctor2: { username: 'doctor2', password: 'demo-doctor2-2026' },
  billing: { username: 'billing', password: 'demo-billing-2026' },
  admin: { username: 'admin', password: 'demo-admin-2026' },
  privacy: { username: 'privacy', password: 'demo-privacy-2026' },
} as const;

export async function login(server: RunningServer, who: { username: string; password: string }, deviceId: string): Promise<TokenResponse> {
  const res = await call<TokenResponse>(server, 'POST', '/v1/auth/login', { body: { ...who, deviceId } });
  if (res.status !== 200) throw new Error(`login failed ${res.status} ${res.text}`);
  return res.body;
}

/** Canary PHI: must never appear in logs, errors or server storage in plaintext. */
export const CANARY = { name: 'Zebediah Canarywhistle', mrn: 'CANARY-MRN-0042' };

/** Every text column of every table, concatenated — to grep storage for plaintext. */
export async function dumpDatabaseText(server: RunningServer): Promise<string> {
  const tables = await server.db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  let out = '';
  for (const { tablename } of tables) {
    const rows = await server.db.query(`SELECT * FROM ${tablename}`);
    out += JSON.stringify(rows);
  }
  return out;
}

/**
 * Links high-severity break-glass style entries onto an enrolled device's chain (as the
 * workstation's vault does), each one signed so any run of them is a valid batch.
 */
export function breakGlassChain(dev: EnrolledDevice, userId = 'u-nurse', role = 'nurse') {
  let head: ChainHead | null = null;
  return (inputs: Omit<AuditEntryInput, 'action' | 'severity' | 'userId' | 'role'>[]): AuditEntry[] =>
    inputs.map((input) => {
      const e = linkEntry(head, dev.deviceId, { action: 'E', severity: 'high', userId, role, ...input }, dev.privateKey);
      head = { seq: e.seq, hash: e.hash };
      return e;
    });
}
