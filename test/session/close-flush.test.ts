/**
 * close(): one last push of pending work, bounded in time (a dead network must not keep the vault
 * from closing), skipped offline (nothing to wait for), and a failing push never blocks closing.
 * The Electron shell relies on this on quit (it passes closeFlushMs: 8 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SyncStatus } from '../../src-shared/api';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { createWorkstation, type WorkstationSync } from '../../src-main/core/workstation';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fakeSync(state: SyncStatus['state'], syncNow: () => Promise<SyncStatus>): WorkstationSync & { syncNow: ReturnType<typeof vi.fn> } {
  const status: SyncStatus = { state, pendingMutations: 1, conflicts: 0, lastSyncAt: null };
  return { status: () => status, syncNow: vi.fn(syncNow), conflicts: () => [], resolveConflict: async () => status };
}

async function closeWith(sync: WorkstationSync, closeFlushMs: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ehr-close-'));
  dirs.push(dataDir);
  const ws = await createWorkstation({ dataDir, keyStore: createMemoryKeyStore(), createSync: () => sync, closeFlushMs });
  const t0 = Date.now();
  await ws.close();
  expect(ws.vault.closed).toBe(true);
  return Date.now() - t0;
}

describe('workstation close flush', () => {
  it('pushes once when online', async () => {
    const sync = fakeSync('idle', async () => sync.status());
    await closeWith(sync, 5_000);
    expect(sync.syncNow).toHaveBeenCalledTimes(1);
  });

  it('does not wait for a push offline', async () => {
    const sync = fakeSync('offline', () => new Promise<never>(() => {}));
    await closeWith(sync, 60_000);
    expect(sync.syncNow).not.toHaveBeenCalled();
  });

  it('gives up after the bound when the server never answers, and still closes the vault', async () => {
    const sync = fakeSync('idle', () => new Promise<never>(() => {}));
    expect(await closeWith(sync, 50)).toBeLessThan(5_000);
    expect(sync.syncNow).toHaveBeenCalledTimes(1);
  });

  it('a failing last push does not block closing', async () => {
    const sync = fakeSync('idle', async () => {
      throw new Error('ECONNRESET');
    });
    await closeWith(sync, 5_000);
    expect(sync.syncNow).toHaveBeenCalledTimes(1);
  });
});
