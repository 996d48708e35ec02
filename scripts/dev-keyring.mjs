// A keychain for `npm start` where the session has none (a server, a container, CI): a private
// D-Bus session bus and gnome-keyring's Secret Service, both in the foreground so that stopping
// them leaves nothing behind, with the keyring's files kept in the data folder so the next start
// finds the same vault key. The keyring is unlocked with a fixed development password: this is for
// the demo data of a development machine, never for a clinic (installed apps use the OS keychain).
// Both run in their own process group, so Ctrl+C does not stop them before the app has closed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DEV_KEYRING_PASSWORD = 'clinic-ehr-development-keyring';

/** Can keytar store, read and delete an item in this environment? (What the app will need.) */
export function secretServiceWorks(root, env = process.env) {
  if (!env.DBUS_SESSION_BUS_ADDRESS) return false;
  const probe = `const k = require(${JSON.stringify(path.join(root, 'node_modules', 'keytar'))}); const a = 'probe-' + process.pid;
    k.setPassword('clinic-ehr-probe', a, 'x').then(() => k.getPassword('clinic-ehr-probe', a))
      .then((v) => k.deletePassword('clinic-ehr-probe', a).then(() => process.exit(v === 'x' ? 0 : 1)))
      .catch(() => process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { env, stdio: 'ignore', timeout: 15_000 }).status === 0;
}

function waitForLine(stream, timeoutMs) {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    stream.on('data', (d) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(text.slice(0, nl).trim());
      }
    });
  });
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts the bus and the keyring; resolves { env, stop } where env is what the app's processes
 * need. Throws with a one-line message when dbus-daemon or gnome-keyring-daemon is missing.
 */
export async function startDevKeyring(root, keyringHome) {
  const runtime = mkdtempSync(path.join(os.tmpdir(), 'ehr-dev-keyring-'));
  mkdirSync(keyringHome, { recursive: true, mode: 0o700 });
  const started = [];
  const stop = async () => {
    for (const c of started.reverse()) await stopChild(c);
    rmSync(runtime, { recursive: true, force: true });
  };
  const missing = (name) => (e) => { if (e.code === 'ENOENT') e.message = `${name} is not installed`; };
  try {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${path.join(runtime, 'bus')}`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    started.push(bus);
    const busError = new Promise((_, reject) => bus.once('error', (e) => { missing('dbus-daemon')(e); reject(e); }));
    busError.catch(() => undefined);
    const address = await Promise.race([waitForLine(bus.stdout, 10_000), busError]);
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: keyringHome };
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], { env, stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    started.push(keyring);
    const keyringError = new Promise((_, reject) => keyring.once('error', (e) => { missing('gnome-keyring-daemon')(e); reject(e); }));
    keyringError.catch(() => undefined);
    keyring.stdin.end(DEV_KEYRING_PASSWORD);
    // Ready when a client can store, read and delete an item.
    for (let i = 0; ; i++) {
      await Promise.race([new Promise((r) => setTimeout(r, 300)), keyringError]);
      if (secretServiceWorks(root, env)) break;
      if (i >= 20) throw new Error('gnome-keyring did not become usable');
    }
    return { env, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
