/**
 * The sync server as a real child process (`src-server/main.ts`, PGlite in the given data
 * directory), for the tests that kill it with SIGKILL. Resolves once it prints its URL and
 * certificate fingerprint.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  fingerprint: string;
  /** Everything it printed so far (JSON log lines and the start banner: ids, routes, timings). */
  output(): string;
  /** Settles when the process has exited, with its signal (e.g. SIGKILL). */
  exited: Promise<NodeJS.Signals | null>;
}

const ROOT = join(import.meta.dirname, '..', '..');

export function spawnServerProcess(dataDir: string, opts: { port?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-server/main.ts', '--data-dir', dataDir, '--port', String(opts.port ?? 0), '--seed', 'none'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 90_000);
    const started = () => {
      const url = /listening on (https:\/\/[^\s]+)/.exec(out)?.[1];
      const fingerprint = /fingerprint[^:]*: ([0-9a-f]{64})/.exec(out)?.[1];
      if (!url || !fingerprint) return;
      clearTimeout(timer);
      child.stdout!.off('data', started);
      resolve({ child, url, port: Number(new URL(url).port), fingerprint, output: () => out, exited });
    };
    child.stdout!.on('data', started);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited: ${out}`));
    });
  });
}
