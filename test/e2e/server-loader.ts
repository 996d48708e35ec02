/**
 * Loads the sync server for the e2e fixture WITHOUT pulling its sources into the e2e type-check
 * (tsconfig.e2e.json has DOM types for page code, and the server is written against Node's types
 * only: its WebCrypto typing does not check under DOM). The server is type-checked with the Node
 * config; here we name only the part of startServer the fixture uses.
 */
export interface E2eServerOptions {
  dataDir: string;
  port: number;
  host?: string;
  seed: 'demo' | 'none';
  demoPatients?: number;
  databaseUrl?: string;
  config?: { rateMonitor?: { factor: number; trailingHours: number; minAccesses: number } };
}

export interface RunningE2eServer {
  url: string;
  port: number;
  fingerprint: string;
  issueEnrollmentCode(): Promise<string>;
  close(): Promise<void>;
}

const SERVER_MODULE = '../../src-server/index';

export async function loadStartServer(): Promise<(opts: E2eServerOptions) => Promise<RunningE2eServer>> {
  const mod = (await import(/* @vite-ignore */ SERVER_MODULE)) as { startServer: (opts: E2eServerOptions) => Promise<RunningE2eServer> };
  return mod.startServer;
}
