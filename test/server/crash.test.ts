/** A real server process killed with SIGKILL: its data directory lock is taken over, data intact, no second writer meanwhile. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from './helpers';

function runServerProcess(dataDir: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-server/main.ts', '--data-dir', dataDir, '--port', '0', '--seed', 'none'], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 90_000);
    child.stdout!.on('data', () => {
      if (out.includes('fingerprint')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('exit', () => reject(new Error(`server exited: ${out}`)));
  });
}

describe('server process killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blocks a second server while alive, and after the kill a new server takes over with the data intact', async () => {
    const first = await startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'demo', demoPatients: 5 });
    const records = await first.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records');
    await first.close();

    const { child } = await runServerProcess(dir);
    await expect(startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'none' })).rejects.toMatchObject({ code: 'CONFLICT', detail: { pid: child.pid } });
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;

    const again = await startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'none' });
    try {
      expect(await again.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records')).toEqual(records);
    } finally {
      await again.close();
    }
  });
});
