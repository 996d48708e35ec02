/**
 * startServer — the sync server as a function, for `npm run server` (main.ts) and for every area's
 * integration and end-to-end tests (real server on loopback, PGlite or PostgreSQL).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app';
import { SignallingHub } from './services/signalling';
import { purgeExpiredRecordings } from './services/recordings';
import { DEFAULT_CONFIG, type ServerConfigInput, type ServerContext } from './context';
import { openDatabase } from './db/open';
import type { Db } from './db/db';
import { FileKeyProvider, type KeyProvider } from './keys/key-provider';
import { rotateKek, serverSecret, type RotationReport } from './keys/sealed';
import { ensureLocalTls, loadTls } from './tls';
import type { LogLine } from './http/log';
import { seedDemo, type DemoSeedReport } from './seed/demo';
import { issueEnrollmentCode } from './services/enrollment';

export type { ServerConfig, ServerConfigInput } from './context';
export type { KeyProvider } from './keys/key-provider';
export { FileKeyProvider } from './keys/key-provider';
export { DEMO_USERS } from './seed/demo';

export interface StartServerOptions {
  /** Holds db/ (PGlite), tls/ (generated certificates) and, unless kekDir says otherwise, kek/. */
  dataDir: string;
  /** PostgreSQL instead of PGlite. The URL's user must own the schema (it drops to appRole per connection). */
  databaseUrl?: string | undefined;
  /** 0 = any free port. Default 8443. */
  port?: number;
  host?: string;
  /** 'demo' seeds a demo organisation when the database is empty. Default 'none'. */
  seed?: 'demo' | 'none';
  /** Synthetic patients in the demo seed (default 300). */
  demoPatients?: number;
  /** Production certificate; without it a local CA + certificate are generated in <dataDir>/tls. */
  tls?: { certPath: string; keyPath: string } | undefined;
  /** Directory of the KEK file(s) (default <dataDir>/kek). Keep it apart from the database and its backups. */
  kekDir?: string | undefined;
  /** Or a KeyProvider of your own (HSM/KMS). */
  keyProvider?: KeyProvider;
  config?: ServerConfigInput;
  /** Restricted database role (default ehr_app). */
  appRole?: string | undefined;
  poolSize?: number | undefined;
  log?: (line: LogLine) => void;
  /** Injectable clock for tests (token expiry, break-glass expiry, rate windows). */
  now?: () => Date;
}

export interface RunningServer {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** SHA-256 of the server certificate (DER), lowercase hex — what clients pin. */
  fingerprint: string;
  /** PEM of the generated local CA (absent with production certificates). */
  caCert?: string;
  seeded?: DemoSeedReport;
  /** Admin shortcut for tests and first-run setup: a one-time device enrollment code. */
  issueEnrollmentCode(): Promise<string>;
  /** Rotates the KEK: re-wraps every data key and server secret, retires the old KEK. */
  rotateKek(): Promise<RotationReport>;
  /** The database handle (tests inspect storage through it). */
  db: Db;
  close(): Promise<void>;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const tls = options.tls ? loadTls(options.tls.certPath, options.tls.keyPath) : await ensureLocalTls(join(options.dataDir, 'tls'));
  const keys = options.keyProvider ?? new FileKeyProvider(options.kekDir ?? join(options.dataDir, 'kek'));
  const db = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, appRole: options.appRole, poolSize: options.poolSize });
  try {
    const ctx: ServerContext = {
      db,
      keys,
      config: { ...DEFAULT_CONFIG, ...options.config, rateMonitor: { ...DEFAULT_CONFIG.rateMonitor, ...options.config?.rateMonitor },
        authThrottle: { ...DEFAULT_CONFIG.authThrottle, ...options.config?.authThrottle } },
      jwtKey: new Uint8Array(await serverSecret(db, keys, 'jwt-hs256')),
      notesKey: await serverSecret(db, keys, 'notes-aes256'),
      log: options.log ?? (() => undefined),
      now: options.now ?? (() => new Date()),
      signalling: new SignallingHub(options.log ?? (() => undefined)),
      publicUrl: options.config?.publicUrl ?? '',
    };
    const seeded = options.seed === 'demo' ? await seedDemo(ctx, { patients: options.demoPatients ?? 300 }) : undefined;
    const app = await buildApp(ctx, tls);
    await app.listen({ port: options.port ?? 8443, host: options.host ?? '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (!ctx.publicUrl) ctx.publicUrl = url;
    const purge = setInterval(() => void purgeExpiredRecordings(ctx).catch(() => undefined), 3600_000);
    purge.unref();
    return {
      url,
      port,
      fingerprint: tls.fingerprint,
      ...(tls.ca ? { caCert: tls.ca } : {}),
      ...(seeded ? { seeded } : {}),
      issueEnrollmentCode: async () => (await issueEnrollmentCode(db, 'startServer', ctx.config.enrollmentCodeMinutes, ctx.now())).code,
      rotateKek: () => rotateKek(db, keys),
      db,
      close: async () => {
        clearInterval(purge);
        await app.close();
        await db.close();
      },
    };
  } catch (e) {
    await db.close();
    throw e;
  }
}
