/**
 * main.ts against a stand-in `electron` module: proves the wiring, not just the pure parts — the
 * single-instance lock, the privileged app:// scheme, the sandbox, the permission and request
 * handlers, the window's preferences, the navigation guards, the IPC sender check, power events and
 * the invalid-policy stop. The workstation core is replaced by a recording fake.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  calls: [] as string[],
  state: {} as Record<string, unknown>,
}));

vi.mock('electron', async () => {
  const { EventEmitter: EE } = await import('node:events');
  class FakeWebContents extends EE {
    static nextId = 1;
    id = FakeWebContents.nextId++;
    sent: unknown[][] = [];
    openHandler: (() => unknown) | undefined;
    setWindowOpenHandler(fn: () => unknown) {
      this.openHandler = fn;
    }
    send(...args: unknown[]) {
      this.sent.push(args);
    }
    forcefullyCrashRenderer() {}
  }
  class FakeBrowserWindow extends EE {
    webContents = new FakeWebContents();
    loaded: string[] = [];
    constructor(readonly options: unknown) {
      super();
      h.state.window = this;
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    show() {}
    focus() {}
    restore() {}
  }
  const app = Object.assign(new EE(), {
    isPackaged: false,
    requestSingleInstanceLock: () => (h.calls.push('singleInstanceLock'), h.state.lockGranted !== false),
    quit: () => h.calls.push('quit'),
    exit: (code: number) => h.calls.push(`exit:${code}`),
    enableSandbox: () => h.calls.push('enableSandbox'),
    whenReady: () => Promise.resolve(),
    getAppPath: () => process.cwd(),
    getPath: () => h.state.userData as string,
    setPath: (_n: string, p: string) => h.calls.push(`setPath:${p}`),
  });
  const makeSession = (name: string) => ({
    name,
    handlers: {} as Record<string, unknown>,
    protocolHandlers: new Map<string, unknown>(),
    get protocol() {
      return { handle: (scheme: string, fn: unknown) => this.protocolHandlers.set(scheme, fn) };
    },
    setPermissionRequestHandler(fn: unknown) { this.handlers.request = fn; },
    setPermissionCheckHandler(fn: unknown) { this.handlers.check = fn; },
    setDevicePermissionHandler(fn: unknown) { this.handlers.device = fn; },
    setDisplayMediaRequestHandler(fn: unknown) { this.handlers.display = fn; },
    setSpellCheckerEnabled(on: boolean) { this.handlers.spellcheck = on; },
    get webRequest() {
      return { onBeforeRequest: (fn: unknown) => (this.handlers.beforeRequest = fn) };
    },
  });
  const defaultSession = makeSession('default');
  const partitions = new Map<string, ReturnType<typeof makeSession>>();
  const fromPartition = (p: string) => {
    if (!partitions.has(p)) partitions.set(p, makeSession(p));
    return partitions.get(p)!;
  };
  const ipcMain = {
    handlers: new Map<string, (...a: unknown[]) => Promise<unknown>>(),
    handle(ch: string, fn: (...a: unknown[]) => Promise<unknown>) { this.handlers.set(ch, fn); },
    removeHandler(ch: string) { this.handlers.delete(ch); },
  };
  const powerMonitor = Object.assign(new EE(), { getSystemIdleTime: () => 0 });
  const protocol = {
    schemes: [] as unknown[],
    handlers: new Map<string, unknown>(),
    registerSchemesAsPrivileged(s: unknown[]) { this.schemes.push(...s); },
    handle(scheme: string, fn: unknown) { this.handlers.set(scheme, fn); },
  };
  const dialog = { showErrorBox: (title: string, message: string) => h.calls.push(`errorBox:${title}:${message}`) };
  const Menu = { setApplicationMenu: () => {} };
  Object.assign(h.state, { app, defaultSession, partitions, ipcMain, powerMonitor, protocol });
  return { app, BrowserWindow: FakeBrowserWindow, session: { defaultSession, fromPartition }, ipcMain, powerMonitor, protocol, dialog, Menu, default: {} };
});

vi.mock('../../src-main/core/workstation', () => ({
  createWorkstation: vi.fn(async () => {
    h.calls.push('createWorkstation');
    if (h.state.workstationError) throw h.state.workstationError;
    const listeners = new Set<(e: unknown) => void>();
    const core = {
      deviceId: 'device-1',
      vault: { device: { publicKeyRaw: 'p'.repeat(43) } },
      invoke: vi.fn(async (channel: string) => ({ ok: true, value: channel })),
      onEvent: (l: (e: unknown) => void) => (listeners.add(l), () => listeners.delete(l)),
      lockNow: vi.fn((reason: string) => (h.calls.push(`lock:${reason}`), true)),
      close: vi.fn(async () => {}),
      visitOpen: false,
      mediaCaptureAllowed(): boolean { return this.visitOpen; },
      emit: (e: unknown) => listeners.forEach((l) => l(e)),
    };
    h.state.core = core;
    return core;
  }),
}));

vi.mock('../../src-main/core/sync/server-client', () => ({
  createServerClient: vi.fn((opts: { serverUrl: string; deviceId: string }) => ({
    enroll: vi.fn(async (req: { code: string; publicKey: string }) => {
      h.calls.push(`enroll:${opts.deviceId}:${req.code}:${req.publicKey.length}`);
      return {};
    }),
    close: () => h.calls.push('client.close'),
  })),
}));

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ehr-main-wiring-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const VALID_POLICY = { serverUrl: 'https://127.0.0.1:8443', serverCertFingerprint: 'ab'.repeat(32), lockTimeoutMinutes: 10 };

/** Loads main.ts afresh with this development policy and waits until start() has finished. */
async function bootMain(policy: unknown, opts: { userData?: string; enrollmentCode?: string } = {}): Promise<void> {
  resetStandIns();
  h.state.userData = opts.userData ?? mkdtempSync(path.join(tmp, 'profile-'));
  if (opts.enrollmentCode) vi.stubEnv('EHR_DEV_ENROLLMENT_CODE', opts.enrollmentCode);
  const file = path.join(tmp, `policy-${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(policy));
  vi.stubEnv('EHR_DEV_POLICY_FILE', file);
  vi.stubEnv('EHR_DEV_USER_DATA', '');
  await import('../../src-main/electron/main');
  await vi.waitFor(() => expect(h.calls.some((c) => c.startsWith('exit:')) || h.state.window !== undefined).toBe(true), { timeout: 5000 });
  // Let start() run past window creation to the end.
  await new Promise((r) => setTimeout(r, 20));
}

/**
 * The electron stand-in is created once (vitest caches mock factories); each boot of main.ts gets it
 * back clean: no listeners, handlers or schemes from the previous boot.
 */
function resetStandIns(): void {
  vi.resetModules();
  h.calls.length = 0;
  delete h.state.window;
  delete h.state.core;
  delete h.state.workstationError;
  (h.state.app as EventEmitter | undefined)?.removeAllListeners();
  (h.state.powerMonitor as EventEmitter | undefined)?.removeAllListeners();
  (h.state.ipcMain as { handlers: Map<string, unknown> } | undefined)?.handlers.clear();
  const protocol = h.state.protocol as { schemes: unknown[]; handlers: Map<string, unknown> } | undefined;
  if (protocol) {
    protocol.schemes.length = 0;
    protocol.handlers.clear();
  }
  const sessions = [h.state.defaultSession, ...((h.state.partitions as Map<string, unknown> | undefined)?.values() ?? [])] as Array<
    { handlers: Record<string, unknown>; protocolHandlers: Map<string, unknown> } | undefined
  >;
  for (const ses of sessions) {
    if (!ses) continue;
    for (const k of Object.keys(ses.handlers)) delete ses.handlers[k];
    ses.protocolHandlers.clear();
  }
}

type Fn = (...a: unknown[]) => unknown;
const get = <T>(k: string) => h.state[k] as T;

describe('main.ts wiring (stand-in electron)', () => {
  beforeEach(() => vi.unstubAllEnvs());

  it('takes the single-instance lock, registers app:// as a privileged scheme that does not bypass CSP, and enables the sandbox', async () => {
    await bootMain(VALID_POLICY);
    expect(h.calls.slice(0, 2)).toEqual(['singleInstanceLock', 'enableSandbox']);
    const schemes = get<{ schemes: Array<{ scheme: string; privileges: Record<string, boolean> }> }>('protocol').schemes;
    expect(schemes).toHaveLength(1);
    expect(schemes[0]!.scheme).toBe('app');
    expect(schemes[0]!.privileges).toMatchObject({ standard: true, secure: true });
    expect(schemes[0]!.privileges.bypassCSP).toBeUndefined();
    expect(schemes[0]!.privileges.corsEnabled).toBeUndefined(); // unset: other origins cannot read app:// responses
    // app:// is served in the window's own (in-memory) session.
    const rendererSession = get<Map<string, { protocolHandlers: Map<string, unknown> }>>('partitions').get('ehr-renderer');
    expect(rendererSession?.protocolHandlers.has('app')).toBe(true);
  });

  it('creates the one window with hardened preferences and loads app://ehr', async () => {
    await bootMain(VALID_POLICY);
    const win = get<{ options: { webPreferences: Record<string, unknown> }; loaded: string[] }>('window');
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, partition: 'ehr-renderer' });
    expect(win.loaded).toEqual(['app://ehr/index.html']);
  });

  it('keeps the window title fixed: a page title (a patient name) never reaches the taskbar', async () => {
    await bootMain(VALID_POLICY);
    const win = get<EventEmitter>('window');
    const e = { preventDefault: vi.fn() };
    win.emit('page-title-updated', e, 'Chart of a patient');
    expect(e.preventDefault).toHaveBeenCalled();
  });

  it.each(['renderer', 'default'])('denies every permission and blocks remote requests in the %s session', async (which) => {
    await bootMain(VALID_POLICY);
    const ses =
      which === 'default'
        ? get<{ handlers: Record<string, Fn> }>('defaultSession')
        : get<Map<string, { handlers: Record<string, Fn> }>>('partitions').get('ehr-renderer')!;
    const handlers = ses.handlers;
    const granted: boolean[] = [];
    handlers.request!({}, 'media', (ok: boolean) => granted.push(ok), {});
    expect(granted).toEqual([false]);
    expect(handlers.check!({}, 'notifications', 'app://ehr', {})).toBe(false);
    expect(handlers.device!({})).toBe(false);
    const decisions: unknown[] = [];
    handlers.beforeRequest!({ url: 'https://evil.example/x.js' }, (r: unknown) => decisions.push(r));
    handlers.beforeRequest!({ url: 'app://ehr/assets/a.js' }, (r: unknown) => decisions.push(r));
    expect(decisions).toEqual([{ cancel: true }, { cancel: false }]);
    expect(handlers.spellcheck).toBe(false);
  });

  it('grants camera and microphone to app://ehr in the renderer session only while the core has a visit open', async () => {
    await bootMain(VALID_POLICY);
    const core = get<{ visitOpen: boolean }>('core');
    const renderer = get<Map<string, { handlers: Record<string, Fn> }>>('partitions').get('ehr-renderer')!.handlers;
    const fallback = get<{ handlers: Record<string, Fn> }>('defaultSession').handlers;
    const ask = (hs: Record<string, Fn>, details: Record<string, unknown>) => {
      const answers: boolean[] = [];
      hs.request!({}, 'media', (ok: boolean) => answers.push(ok), details);
      return answers[0];
    };
    const ours = { requestingUrl: 'app://ehr/index.html', mediaTypes: ['audio', 'video'], isMainFrame: true };
    expect(ask(renderer, ours)).toBe(false);
    core.visitOpen = true;
    expect(ask(renderer, ours)).toBe(true);
    expect(renderer.check!({}, 'media', 'app://ehr', { mediaType: 'video', isMainFrame: true })).toBe(true);
    expect(ask(renderer, { ...ours, requestingUrl: 'https://evil.example/' })).toBe(false);
    expect(ask(fallback, ours)).toBe(false);
    core.visitOpen = false;
    expect(renderer.check!({}, 'media', 'app://ehr', { mediaType: 'video', isMainFrame: true })).toBe(false);
  });

  it('guards every new webContents: navigation away, popups and webviews are refused', async () => {
    await bootMain(VALID_POLICY);
    const app = get<EventEmitter>('app');
    const contents = Object.assign(new EventEmitter(), { openHandler: undefined as Fn | undefined, setWindowOpenHandler(fn: Fn) { this.openHandler = fn; } });
    app.emit('web-contents-created', {}, contents);
    expect(contents.openHandler!()).toEqual({ action: 'deny' });
    for (const ev of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      const evil = { url: 'https://evil.example/', preventDefault: vi.fn() };
      contents.emit(ev, evil);
      expect(evil.preventDefault, ev).toHaveBeenCalled();
      const ours = { url: 'app://ehr/index.html', preventDefault: vi.fn() };
      contents.emit(ev, ours);
      expect(ours.preventDefault, ev).not.toHaveBeenCalled();
    }
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();
  });

  it('answers IPC from the window main frame only', async () => {
    await bootMain(VALID_POLICY);
    const handler = get<{ handlers: Map<string, Fn> }>('ipcMain').handlers.get('ehr:invoke')!;
    const win = get<{ webContents: { id: number } }>('window');
    const core = get<{ invoke: ReturnType<typeof vi.fn> }>('core');
    const ok = await handler({ sender: { id: win.webContents.id }, senderFrame: { url: 'app://ehr/index.html', parent: null } }, 'session.status', {});
    expect(ok).toEqual({ ok: true, value: 'session.status' });
    const sub = await handler({ sender: { id: win.webContents.id }, senderFrame: { url: 'app://ehr/index.html', parent: {} } }, 'session.status', {});
    expect(sub).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const other = await handler({ sender: { id: 999 }, senderFrame: { url: 'app://ehr/index.html', parent: null } }, 'session.status', {});
    expect(other).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(core.invoke).toHaveBeenCalledTimes(1);
  });

  it('locks the core on OS screen lock and suspend, and forwards core events to the window', async () => {
    await bootMain(VALID_POLICY);
    const pm = get<EventEmitter>('powerMonitor');
    pm.emit('lock-screen');
    pm.emit('suspend');
    expect(h.calls.filter((c) => c.startsWith('lock:'))).toEqual(['lock:screen-lock', 'lock:suspend']);
    get<{ emit: Fn }>('core').emit({ event: 'session.locked', payload: { reason: 'idle', userId: 'u1' } });
    expect(get<{ webContents: { sent: unknown[][] } }>('window').webContents.sent).toEqual([['ehr:event', 'session.locked', { reason: 'idle', userId: 'u1' }]]);
  });

  it('a crashed renderer: locks first, then reloads the app (on its lock screen)', async () => {
    await bootMain(VALID_POLICY);
    const win = get<{ webContents: EventEmitter; loaded: string[] }>('window');
    win.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
    expect(h.calls.filter((c) => c.startsWith('lock:'))).toEqual(['lock:user']);
    expect(win.loaded).toEqual(['app://ehr/index.html', 'app://ehr/index.html']);
  });

  it('quitting closes the core before the process exits', async () => {
    await bootMain(VALID_POLICY);
    const app = get<EventEmitter>('app');
    const e = { preventDefault: vi.fn() };
    app.emit('before-quit', e);
    expect(e.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(h.calls).toContain('quit'));
    expect(get<{ close: ReturnType<typeof vi.fn> }>('core').close).toHaveBeenCalledTimes(1);
  });

  it('an invalid IT policy stops the app with the message, before any vault is opened', async () => {
    await bootMain({ ...VALID_POLICY, lockTimeoutMinutes: 30 });
    const box = h.calls.find((c) => c.startsWith('errorBox:'));
    expect(box).toMatch(/lockTimeoutMinutes/);
    expect(h.calls).toContain('exit:1');
    expect(h.calls).not.toContain('createWorkstation');
    expect(h.state.window).toBeUndefined();
  });

  it('enrolls the workstation once with the development code, then remembers it', async () => {
    const profile = mkdtempSync(path.join(tmp, 'profile-'));
    await bootMain(VALID_POLICY, { userData: profile, enrollmentCode: 'CODE-1234-ABCD' });
    expect(h.calls.filter((c) => c.startsWith('enroll:'))).toEqual(['enroll:device-1:CODE-1234-ABCD:43']);
    expect(h.calls).toContain('client.close');
    await bootMain(VALID_POLICY, { userData: profile, enrollmentCode: 'CODE-5678-EFGH' });
    expect(h.calls.filter((c) => c.startsWith('enroll:'))).toEqual([]);
  });

  it('no keychain: the app stops with the keychain message and opens no window (never a plaintext fallback)', async () => {
    resetStandIns();
    // Imported after the module reset, so main.ts sees the same EhrError class.
    const { KeychainUnavailableError } = await import('../../src-main/core/keychain/errors');
    h.state.workstationError = new KeychainUnavailableError('get');
    const file = path.join(tmp, 'kc-policy.json');
    writeFileSync(file, JSON.stringify(VALID_POLICY));
    vi.stubEnv('EHR_DEV_POLICY_FILE', file);
    h.state.userData = mkdtempSync(path.join(tmp, 'profile-'));
    await import('../../src-main/electron/main');
    await vi.waitFor(() => expect(h.calls).toContain('exit:1'));
    expect(h.calls.find((c) => c.startsWith('errorBox:'))).toMatch(/keychain is unavailable or locked/);
    expect(h.state.window).toBeUndefined();
  });

  it('a second launch with --enroll-code= enrolls through the running instance', async () => {
    await bootMain(VALID_POLICY);
    get<EventEmitter>('app').emit('second-instance', {}, ['clinic-ehr', '--enroll-code=SECOND-LAUNCH-1'], process.cwd());
    await vi.waitFor(() => expect(h.calls).toContain('enroll:device-1:SECOND-LAUNCH-1:43'));
  });

  it('a second instance quits at once', async () => {
    resetStandIns();
    h.state.lockGranted = false;
    await import('../../src-main/electron/main');
    expect(h.calls).toEqual(['singleInstanceLock', 'quit']);
    h.state.lockGranted = true;
  });
});
