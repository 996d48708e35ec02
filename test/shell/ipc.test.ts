import { describe, expect, it, vi } from 'vitest';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { EVENT_IPC, INVOKE_IPC, type ApiResult, type EhrEvent } from '../../src-shared/api';
import { forwardEvents, isTrustedSender, registerIpc, senderInfo, type SenderInfo } from '../../src-main/electron/ipc';

/** A stand-in for ipcMain that records the handler so tests can call it with forged senders. */
function fakeIpcMain() {
  const handlers = new Map<string, (event: SenderInfo, ...args: unknown[]) => Promise<unknown>>();
  return {
    handlers,
    handle(channel: string, fn: (event: SenderInfo, ...args: unknown[]) => Promise<unknown>) {
      if (handlers.has(channel)) throw new Error('second handler');
      handlers.set(channel, fn);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
    call(event: SenderInfo, ...args: unknown[]) {
      const h = handlers.get(INVOKE_IPC);
      if (!h) throw new Error('no handler');
      return h(event, ...args) as Promise<ApiResult<unknown>>;
    },
  };
}

const OUR_WINDOW = 7;
const trusted = new Set([OUR_WINDOW]);
const ours: SenderInfo = { webContentsId: OUR_WINDOW, frameUrl: 'app://ehr/index.html', isMainFrame: true };

function setup(invoke = vi.fn(async (_c: string, _i: unknown): Promise<ApiResult<unknown>> => ({ ok: true, value: 'done' }))) {
  const ipc = fakeIpcMain();
  const refused: string[] = [];
  const dispose = registerIpc({ ipcMain: ipc, core: { invoke }, isTrusted: (e: SenderInfo) => isTrustedSender(e, trusted), onRefused: (r) => refused.push(r) });
  return { ipc, invoke, refused, dispose };
}

describe('IPC sender check', () => {
  it('forwards a call from our window main frame to the core', async () => {
    const { ipc, invoke } = setup();
    const r = await ipc.call(ours, 'session.status', {});
    expect(r).toEqual({ ok: true, value: 'done' });
    expect(invoke).toHaveBeenCalledWith('session.status', {});
  });

  it.each<[string, SenderInfo]>([
    ['a sub-frame of our window', { ...ours, isMainFrame: false }],
    ['another webContents', { ...ours, webContentsId: 99 }],
    ['our window after navigating to a remote page', { ...ours, frameUrl: 'https://evil.example/' }],
    ['a file:// page', { ...ours, frameUrl: 'file:///tmp/x.html' }],
    ['a look-alike origin', { ...ours, frameUrl: 'app://ehr.evil/index.html' }],
    ['a destroyed frame', { ...ours, frameUrl: null }],
  ])('refuses %s without reaching the core', async (_name, sender) => {
    const { ipc, invoke, refused } = setup();
    const r = await ipc.call(sender, 'patients.search', { name: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(ErrorCode.FORBIDDEN);
    expect(invoke).not.toHaveBeenCalled();
    expect(refused).toEqual(['sender']);
  });

  it('refuses channels outside the contract before the core sees them', async () => {
    const { ipc, invoke } = setup();
    for (const channel of ['fs.read', '__proto__', 'constructor', 42, null]) {
      const r = await ipc.call(ours, channel, {});
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe(ErrorCode.INVALID);
    }
    expect(invoke).not.toHaveBeenCalled();
  });

  it('turns a thrown EhrError into its code and message, anything else into a generic INTERNAL', async () => {
    const { ipc } = setup(vi.fn(async () => {
      throw new EhrError(ErrorCode.LOCKED, 'The session is locked.');
    }));
    expect(await ipc.call(ours, 'session.status', {})).toEqual({ ok: false, error: { code: 'LOCKED', message: 'The session is locked.' } });

    const leaky = setup(vi.fn(async () => {
      throw new Error('SQLITE_CONSTRAINT: Patient Jane Doe 1970-01-01');
    }));
    const r = await leaky.ipc.call(ours, 'session.status', {});
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toMatch(/Jane|1970|SQLITE/);
    if (!r.ok) expect(r.error.code).toBe(ErrorCode.INTERNAL);
  });

  it('registers exactly one handler on our prefixed channel and removes it', () => {
    const { ipc, dispose } = setup();
    expect([...ipc.handlers.keys()]).toEqual(['ehr:invoke']);
    dispose();
    expect(ipc.handlers.size).toBe(0);
  });
});

describe('senderInfo', () => {
  const sender = { id: OUR_WINDOW } as never;
  it('reads main frame vs sub-frame from senderFrame.parent', () => {
    const main = senderInfo({ sender, senderFrame: { url: 'app://ehr/index.html', parent: null } as never });
    expect(isTrustedSender(main, trusted)).toBe(true);
    const sub = senderInfo({ sender, senderFrame: { url: 'app://ehr/index.html', parent: {} } as never });
    expect(sub.isMainFrame).toBe(false);
    expect(isTrustedSender(sub, trusted)).toBe(false);
  });

  it('treats a missing or throwing frame as untrusted', () => {
    expect(isTrustedSender(senderInfo({ sender, senderFrame: null }), trusted)).toBe(false);
    const throwing = {
      get url(): string {
        throw new Error('Render frame was disposed');
      },
      parent: null,
    };
    expect(isTrustedSender(senderInfo({ sender, senderFrame: throwing as never }), trusted)).toBe(false);
  });
});

describe('event forwarding', () => {
  it('sends core events on ehr:event while the window lives, and stops after unsubscribe', () => {
    let listener: ((e: EhrEvent) => void) | undefined;
    const core = {
      onEvent: (l: (e: EhrEvent) => void) => {
        listener = l;
        return () => {
          listener = undefined;
        };
      },
    };
    const sent: unknown[][] = [];
    let alive = true;
    const off = forwardEvents(core, (...args) => sent.push(args), () => alive);
    listener?.({ event: 'session.locked', payload: { reason: 'idle', userId: 'u1' } });
    alive = false;
    listener?.({ event: 'session.unlocked', payload: { userId: 'u1' } });
    expect(sent).toEqual([[EVENT_IPC, 'session.locked', { reason: 'idle', userId: 'u1' }]]);
    off();
    expect(listener).toBeUndefined();
  });
});
