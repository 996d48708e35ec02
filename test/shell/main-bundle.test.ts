/**
 * Runs the real esbuild bundle (dist/main/electron/main.cjs, built here into a scratch folder) under
 * plain Node with a stand-in `electron` module: proves the bundle loads every module it carries
 * (CommonJS interop, import.meta replacement, externals resolvable) and reaches its first decision —
 * here an invalid IT policy, which must end in the policy message and exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
// Inside the project (.data is git-ignored) so the bundle resolves node_modules like the real one.
mkdirSync(path.join(root, '.data'), { recursive: true });
const dir = mkdtempSync(path.join(root, '.data', 'shell-bundle-'));
const out = path.join(dir, 'dist', 'main', 'electron');

const FAKE_ELECTRON = `
const { EventEmitter } = require('node:events');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const app = Object.assign(new EventEmitter(), {
  isPackaged: false,
  requestSingleInstanceLock: () => true,
  enableSandbox: () => say({ call: 'enableSandbox' }),
  whenReady: () => Promise.resolve(),
  getPath: () => process.env.FAKE_USER_DATA,
  getAppPath: () => process.env.FAKE_APP_PATH,
  setPath: () => {},
  quit: () => say({ call: 'quit' }),
  exit: (code) => { say({ call: 'exit', code }); process.exit(code); },
});
const makeSession = (name) => ({
  setPermissionRequestHandler: () => {}, setPermissionCheckHandler: () => {}, setDevicePermissionHandler: () => {},
  setDisplayMediaRequestHandler: () => {}, setSpellCheckerEnabled: () => {},
  webRequest: { onBeforeRequest: () => {} },
  protocol: { handle: (scheme) => say({ call: 'protocol.handle', session: name, scheme }) },
});
const partitions = new Map();
let nextId = 1;
class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    say({ call: 'BrowserWindow', sandbox: options.webPreferences.sandbox, partition: options.webPreferences.partition });
    this.webContents = Object.assign(new EventEmitter(), { id: nextId++, send: () => {}, setWindowOpenHandler: () => {}, forcefullyCrashRenderer: () => {} });
  }
  isDestroyed() { return false; }
  async loadURL(url) {
    say({ call: 'loadURL', url });
    // The window is up: now quit, as a user would, and watch the vault close.
    setImmediate(() => app.emit('before-quit', { preventDefault: () => say({ call: 'quit-held' }) }));
  }
}
app.quit = () => { say({ call: 'quit' }); process.exit(0); };
module.exports = {
  app,
  BrowserWindow,
  protocol: { registerSchemesAsPrivileged: (s) => say({ call: 'schemes', s }), handle: () => {} },
  dialog: { showErrorBox: (title, message) => say({ call: 'errorBox', title, message }) },
  session: { defaultSession: makeSession('default'), fromPartition: (p) => partitions.get(p) ?? (partitions.set(p, makeSession(p)), partitions.get(p)) },
  ipcMain: { handle: (ch) => say({ call: 'ipc.handle', ch }), removeHandler: () => {} },
  powerMonitor: Object.assign(new EventEmitter(), { getSystemIdleTime: () => 0 }),
  Menu: { setApplicationMenu: () => {} },
};
`;
const HOOK = `
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? ${JSON.stringify(path.join(dir, 'fake-electron.cjs'))} : resolve.call(this, request, ...rest);
};
// The app hides keychain error details (they can name D-Bus paths); the test shows them on failure.
const keytar = require('keytar');
for (const op of ['getPassword', 'setPassword', 'deletePassword']) {
  const call = keytar[op];
  keytar[op] = (...args) => call(...args).catch((e) => {
    process.stderr.write('keytar ' + op + ': ' + (e && e.message) + '\\n');
    throw e;
  });
}
`;

function runBundle(policy: object, extraEnv: Record<string, string> = {}) {
  const file = path.join(dir, `policy-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(policy));
  const userData = mkdtempSync(path.join(dir, 'profile-'));
  const r = spawnSync(process.execPath, ['-r', path.join(dir, 'hook.cjs'), path.join(out, 'main.cjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, EHR_DEV_POLICY_FILE: file, FAKE_USER_DATA: userData, FAKE_APP_PATH: root, EHR_DEV_USER_DATA: '', ...extraEnv },
  });
  const calls = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { call: string; [k: string]: unknown });
  return { r, calls, userData };
}

const keyring = process.env.EHR_KEYRING_READY === '1';
if (!keyring) console.warn('[shell] bundled-main startup test SKIPPED: no keychain session (run it with npm run test:shell)');

let built = false;
beforeAll(() => {
  writeFileSync(path.join(dir, 'fake-electron.cjs'), FAKE_ELECTRON);
  writeFileSync(path.join(dir, 'hook.cjs'), HOOK);
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-main.mjs'), `--outdir=${out}`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  built = r.status === 0;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the bundled main process (stand-in electron, plain Node)', () => {
  it('loads, and stops on an invalid IT policy with the policy message and exit code 1', () => {
    expect(built).toBe(true);
    const { r, calls } = runBundle({ serverUrl: 'https://s.example', serverCertFingerprint: 'ab'.repeat(32), lockTimeoutMinutes: 60 });
    expect(calls.map((c) => c.call)).toEqual(['schemes', 'enableSandbox', 'errorBox', 'exit']);
    expect(calls[2]!.message).toMatch(/lockTimeoutMinutes/);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace anywhere
  });

  // One retry: under heavy parallel load the test keyring daemon has been seen to refuse a first
  // write; the keytar error is printed (stderr) whenever that happens, so a real failure stays visible.
  it.skipIf(!keyring)('starts for real: keychain, encrypted vault, app:// in the window session, IPC, window; quitting closes the vault', { retry: 1 }, async () => {
    expect(built).toBe(true);
    // On a busy machine the keyring daemon may still be claiming its D-Bus name when the test starts:
    // wait until it answers, so a slow daemon is not mistaken for the app failing.
    const keytar = (await import('keytar')).default;
    await expect
      .poll(async () => keytar.getPassword('clinic-ehr-shell-test', 'warm-up').then(() => true, () => false), { timeout: 15_000, interval: 250 })
      .toBe(true);
    const { r, calls, userData } = runBundle({ serverUrl: 'https://127.0.0.1:9', serverCertFingerprint: 'ab'.repeat(32) });
    const names = calls.map((c) => c.call);
    expect(names, JSON.stringify(calls.find((c) => c.call === 'errorBox')) + r.stderr).not.toContain('errorBox');
    expect(calls.find((c) => c.call === 'protocol.handle')).toMatchObject({ session: 'ehr-renderer', scheme: 'app' });
    expect(calls.find((c) => c.call === 'ipc.handle')).toMatchObject({ ch: 'ehr:invoke' });
    expect(calls.find((c) => c.call === 'BrowserWindow')).toMatchObject({ sandbox: true, partition: 'ehr-renderer' });
    expect(calls.find((c) => c.call === 'loadURL')).toMatchObject({ url: 'app://ehr/index.html' });
    expect(names.slice(-2)).toEqual(['quit-held', 'quit']);
    expect(r.status).toBe(0);
    // The vault was created in the profile, and is not readable as plain SQLite.
    const vaultFiles = readdirSync(path.join(userData, 'vault'));
    expect(vaultFiles.length).toBeGreaterThan(0);
    const db = vaultFiles.find((f) => f.endsWith('.db'));
    expect(db).toBeDefined();
    expect(readFileSync(path.join(userData, 'vault', db!)).subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\u0000');
  });
});
