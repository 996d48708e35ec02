import { describe, expect, it, vi } from 'vitest';
import type { EhrEvent, SyncStatus } from '../../src-shared/api';
import { createShellSync, type SyncEngineLike } from '../../src-main/electron/sync-wiring';

type Status = SyncStatus & { online: boolean };

function fakeEngine(status: Partial<Status>) {
  let listener: ((s: SyncStatus) => void) | undefined;
  const current: Status = { state: 'idle', pendingMutations: 0, conflicts: 0, lastSyncAt: null, online: true, ...status };
  const engine: SyncEngineLike & { push(s: SyncStatus): void } = {
    start: vi.fn(),
    stop: vi.fn(async () => {}),
    syncNow: vi.fn(async () => current),
    status: () => current,
    onStatus: (cb) => ((listener = cb), () => (listener = undefined)),
    conflicts: () => [],
    resolveConflict: vi.fn(async () => ({ recordId: 'r1', version: 2, mutationId: null })),
    push: (s) => listener?.(s),
  };
  return engine;
}

const deps = (emit: (e: EhrEvent) => void, client: unknown = {}) =>
  ({ vault: {} as never, client: client as never, deviceId: 'd1', emit });

describe('shell sync wiring', () => {
  it('forwards engine status changes to the renderer as sync.status events', () => {
    const engine = fakeEngine({});
    const events: EhrEvent[] = [];
    createShellSync(() => engine).createSync(deps((e) => events.push(e)));
    engine.push({ state: 'syncing', pendingMutations: 3, conflicts: 0, lastSyncAt: null });
    expect(events).toEqual([{ event: 'sync.status', payload: { state: 'syncing', pendingMutations: 3, conflicts: 0, lastSyncAt: null } }]);
  });

  it('resolving a conflict answers with the new sync status', async () => {
    const engine = fakeEngine({ conflicts: 0 });
    const port = createShellSync(() => engine).createSync(deps(() => {}));
    expect(await port.resolveConflict('r1', 'server')).toMatchObject({ conflicts: 0, state: 'idle' });
    expect(engine.resolveConflict).toHaveBeenCalledWith('r1', 'server');
  });

  it('quit flush pushes only when online with pending changes', async () => {
    for (const [status, pushes] of [
      [{ online: true, pendingMutations: 2 }, 1],
      [{ online: false, pendingMutations: 2 }, 0],
      [{ online: true, pendingMutations: 0 }, 0],
    ] as const) {
      const engine = fakeEngine(status);
      const s = createShellSync(() => engine);
      await s.flush(); // before the core exists: nothing to do, no throw
      s.createSync(deps(() => {}));
      await s.flush();
      expect(engine.syncNow).toHaveBeenCalledTimes(pushes);
    }
  });

  it('a failing last push does not block quitting', async () => {
    const engine = fakeEngine({ online: true, pendingMutations: 1 });
    engine.syncNow = vi.fn(async () => {
      throw new Error('ECONNRESET');
    });
    const s = createShellSync(() => engine);
    s.createSync(deps(() => {}));
    await expect(s.flush()).resolves.toBeUndefined();
  });

  it('refuses to run without a configured server', () => {
    expect(() => createShellSync(() => fakeEngine({})).createSync(deps(() => {}, null))).toThrow(/not configured/);
  });
});

describe('quit flush bound', () => {
  it('gives up waiting after the timeout so the vault can still close', async () => {
    const engine = fakeEngine({ online: true, pendingMutations: 1 });
    engine.syncNow = vi.fn(() => new Promise<never>(() => {}));
    const s = createShellSync(() => engine);
    s.createSync(deps(() => {}));
    const t0 = Date.now();
    await s.flush(30);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
