import { describe, expect, it, vi } from 'vitest';
import { EVENT_IPC, INVOKE_IPC } from '../../src-shared/api';
import { createBridge, type IpcRendererLike } from '../../src-main/electron/bridge';

function fakeIpcRenderer() {
  const listeners = new Map<string, Set<(e: unknown, ...a: unknown[]) => void>>();
  const ipc: IpcRendererLike & { emit(channel: string, ...a: unknown[]): void; count(channel: string): number } = {
    invoke: vi.fn(async () => ({ ok: true, value: 1 })),
    on(channel, l) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    },
    removeListener(channel, l) {
      listeners.get(channel)?.delete(l);
    },
    emit(channel, ...a) {
      for (const l of listeners.get(channel) ?? []) l({ sender: 'ipcRenderer-internals' }, ...a);
    },
    count: (channel) => listeners.get(channel)?.size ?? 0,
  };
  return ipc;
}

describe('window.ehr bridge', () => {
  it('is frozen and has exactly invoke and on', () => {
    const bridge = createBridge(fakeIpcRenderer());
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(() => {
      (bridge as unknown as Record<string, unknown>).invoke = () => 0;
    }).toThrow();
  });

  it('invokes only on ehr:invoke, passing channel and input', async () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc);
    await bridge.invoke('session.status', {});
    expect(ipc.invoke).toHaveBeenCalledWith(INVOKE_IPC, 'session.status', {});
  });

  it('hands listeners the payload only, for their own event, until unsubscribed', () => {
    const ipc = fakeIpcRenderer();
    const bridge = createBridge(ipc);
    const got: unknown[][] = [];
    const off = bridge.on('session.locked', (...args: unknown[]) => got.push(args));
    ipc.emit(EVENT_IPC, 'session.unlocked', { userId: 'u1' });
    ipc.emit(EVENT_IPC, 'session.locked', { reason: 'idle', userId: 'u1' });
    expect(got).toEqual([[{ reason: 'idle', userId: 'u1' }]]);
    off();
    expect(ipc.count(EVENT_IPC)).toBe(0);
    ipc.emit(EVENT_IPC, 'session.locked', { reason: 'user', userId: 'u1' });
    expect(got).toHaveLength(1);
  });

  it('refuses unknown events and non-function listeners', () => {
    const bridge = createBridge(fakeIpcRenderer());
    expect(() => bridge.on('ipc.raw' as never, () => {})).toThrow(TypeError);
    expect(() => bridge.on('session.locked', 'x' as never)).toThrow(TypeError);
  });
});
