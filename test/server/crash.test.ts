/** A real server process killed with SIGKILL: its data directory lock is taken over, data intact, no second writer meanwhile. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from './helpers';
import { spawnServerProcess } from './server-process';

describe('server process killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('blocks a second server while alive, and after the kill a new server takes over with the data intact', async () => {
    const first = await startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'demo', demoPatients: 5 });
    const records = await first.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records');
    await first.close();

    const { child, exited } = await spawnServerProcess(dir);
    await expect(startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'none' })).rejects.toMatchObject({ code: 'CONFLICT', detail: { pid: child.pid } });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const again = await startTestServer({ name: 'pglite' }, { dataDir: dir, seed: 'none' });
    try {
      expect(await again.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records')).toEqual(records);
    } finally {
      await again.close();
    }
  });
});
