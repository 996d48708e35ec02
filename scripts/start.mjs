#!/usr/bin/env node
// `npm start`: the development app, on whichever host this machine can run.
//   - Electron (the product's shell) where its binary is installed;
//   - otherwise the development host (src-main/chromium-host): the same core, bridge and CSP in
//     Debian's Chromium, under Xvfb when there is no display.
// Both get the same stack: main + renderer built, the sync server (embedded PGlite, demo seed) in
// the background, a development policy pinning its certificate, and its one-time enrollment code.
//   npm start -- --check      the development host's self-check, headless: sign in as the demo
//                             nurse, open a chart, record a vital sign, sign out; last line
//                             `start check: ok` (exit 0) or `start check: failed: <why>`
//   npm start -- --electron   Electron or nothing (says how to get its binary)
//   npm start -- --enroll-code=<code>   enroll with a sync server that was already running
//   EHR_HOST=chromium         the development host even where Electron is installed
//   EHR_DATA_DIR              the data folder (default .data): server database, vault, keyring
//   EHR_SERVER_URL            default https://127.0.0.1:8443
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { secretServiceWorks, startDevKeyring } from './dev-keyring.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where Electron's binary is, or why it is not there. Mirrors node_modules/electron/index.js, which
 * throws when the postinstall download never happened and honours ELECTRON_OVERRIDE_DIST_PATH.
 * @returns {{ ok: true, path: string } | { ok: false, reason: string }}
 */
export function electronBinaryStatus(projectRoot = root, exists = existsSync) {
  let binary;
  try {
    binary = createRequire(path.join(projectRoot, 'package.json'))('electron');
  } catch {
    return { ok: false, reason: 'the electron package has no binary (it was installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1 or offline)' };
  }
  if (typeof binary !== 'string' || !exists(binary)) {
    return { ok: false, reason: `the Electron binary is missing at ${binary}` };
  }
  return { ok: true, path: binary };
}

/** The message `npm start` prints when there is no binary: what happened and how to fix it. */
export function missingBinaryMessage(reason) {
  return [
    "Electron's binary is not installed, so the desktop app cannot start here.",
    `  Why: ${reason}.`,
    '  Fix: on a machine with network access run',
    '         ELECTRON_SKIP_BINARY_DOWNLOAD= npm ci',
    '       (or, keeping node_modules: ELECTRON_SKIP_BINARY_DOWNLOAD= node node_modules/electron/install.js)',
    "  Without it, `npm start` runs the development host (Debian's Chromium) and `npm test` runs everything.",
  ].join('\n');
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`npm start: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

/** Connects with TLS (no trust check: this is the local dev server) and returns its SHA-256 fingerprint. */
/**
 * Starts `npm run server` in its own process group, so that stopping it also stops what npm started
 * (tsx and the server): signalling npm alone leaves the server running.
 */
export function spawnSyncServer(env, stdio = ['ignore', 'pipe', 'inherit']) {
  return spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'server'], {
    cwd: root,
    stdio,
    env,
    detached: process.platform !== 'win32',
  });
}

/** Stops a process started by spawnSyncServer and everything under it. */
export function stopProcessTree(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    if (process.platform === 'win32') spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore' });
    else process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** The one-time device enrollment code the development server prints at start (docs/server.md). */
export function enrollmentCodeFromServerOutput(text) {
  const m = /One-time device enrollment code: (\S+)/.exec(text);
  return m ? m[1] : undefined;
}

export function serverFingerprint(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port || 443), servername: hostname === '127.0.0.1' ? undefined : hostname, rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
    socket.setTimeout(2000, () => socket.destroy(new Error('timeout')));
  });
}

export async function waitForServer(url, child, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the sync server exited (code ${child.exitCode})`);
    try {
      return await serverFingerprint(url);
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`the sync server did not answer at ${url} within ${timeoutMs / 1000} s`);
}

function electronNativeDir() {
  const electronDir = path.join(root, 'node_modules', 'electron');
  const abi = readFileSync(path.join(electronDir, 'abi_version'), 'utf8').trim();
  return path.join(root, 'native', `electron-${abi}-${process.platform}-${process.arch}`, 'better_sqlite3.node');
}

/** The newest modification time under `dir` (files only), 0 when it does not exist. */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/** True when dist/renderer is older than the sources it is built from (or missing). */
export function rendererBuildIsStale(projectRoot = root) {
  const built = path.join(projectRoot, 'dist', 'renderer', 'index.html');
  if (!existsSync(built)) return true;
  const sources = Math.max(...['src-renderer', 'src-shared'].map((d) => newestMtime(path.join(projectRoot, d))), statSync(path.join(projectRoot, 'package-lock.json')).mtimeMs);
  return sources > statSync(built).mtimeMs;
}

/** Refuses early, in one line, when something that is not our server holds the port. */
export function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** Which host `npm start` uses: the development host for --check, on request, or without Electron. */
export function chooseHost(argv, env, electron) {
  if (argv.includes('--electron')) return 'electron';
  if (argv.includes('--check') || env.EHR_HOST === 'chromium' || !electron.ok) return 'chromium';
  return 'electron';
}

const fail = (line, code = 1) => {
  console.error(`npm start: ${line}`);
  process.exit(code);
};

/**
 * Re-runs this script inside a development keyring (dev-keyring.mjs) when the session has no
 * usable Secret Service; resolves false when none is needed. Signals go to the inner run, and the
 * bus and keyring are stopped once it has closed the vault.
 */
async function runInsideDevKeyring(dataDir) {
  if (process.env.EHR_KEYRING_READY === '1' || secretServiceWorks(root)) return false;
  const home = path.join(dataDir, 'keyring');
  let keyring;
  try {
    keyring = await startDevKeyring(root, home);
  } catch (e) {
    fail(`no keychain: this session has no Secret Service and a development keyring could not start (${e.message}); run npm run setup (it installs gnome-keyring and dbus) or start from a desktop session.`);
  }
  console.log(`npm start: no keychain in this session; using a development keyring in ${home.startsWith(root + path.sep) ? path.relative(root, home) : home} (demo data only).`);
  const inner = spawn(process.execPath, process.argv.slice(1), { cwd: root, stdio: 'inherit', env: { ...keyring.env, EHR_KEYRING_READY: '1' } });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => inner.kill(sig));
  const code = await new Promise((resolve) => inner.on('exit', (c, s) => resolve(c ?? (s === 'SIGINT' ? 130 : 143))));
  await keyring.stop();
  process.exit(code);
}

async function main() {
  const argv = process.argv.slice(2);
  const check = argv.includes('--check');
  const electron = electronBinaryStatus();
  const host = chooseHost(argv, process.env, electron);
  if (host === 'electron' && !electron.ok) {
    console.error(missingBinaryMessage(electron.reason));
    process.exit(1);
  }
  const dataDir = path.resolve(process.env.EHR_DATA_DIR ?? path.join(root, '.data'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (host === 'chromium') {
    if (!electron.ok && !check && process.env.EHR_KEYRING_READY !== '1') {
      console.log("npm start: Electron's binary is not installed here, so the app opens in the development host (Debian's Chromium). Electron: see README.");
    }
    if (await runInsideDevKeyring(dataDir)) return;
  }

  if (host === 'electron') {
    // The Electron-ABI database engine: built once, beside (never instead of) Node's build.
    const native = electronNativeDir();
    run(process.execPath, [path.join(root, 'scripts/build-main.mjs'), ...(existsSync(native) ? [] : ['--native'])]);
  }
  if (host === 'electron' || rendererBuildIsStale()) {
    // For --check only errors: its output is a verdict, not a build log.
    run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:renderer', ...(check ? ['--', '--logLevel', 'error'] : [])], check ? { stdio: ['ignore', 'ignore', 'inherit'] } : {});
  }

  const serverUrl = process.env.EHR_SERVER_URL ?? 'https://127.0.0.1:8443';
  const { hostname } = new URL(serverUrl);
  const port = Number(new URL(serverUrl).port || '443');
  let fingerprint = await serverFingerprint(serverUrl).catch(() => null);
  let enrollment;
  let server;
  if (fingerprint) {
    console.log(`npm start: using the sync server already running at ${serverUrl} (a workstation not enrolled there needs --enroll-code=<code>).`);
  } else {
    if (!(await portIsFree(port, hostname))) {
      fail(`port ${port} is in use by another program; stop it, or choose another port with EHR_SERVER_URL=https://127.0.0.1:<port>.`);
    }
    if (!check) console.log(`npm start: starting the sync server (embedded PGlite, demo data) at ${serverUrl} ...`);
    server = spawnSyncServer({ ...process.env, PORT: String(port), DATA_DIR: path.join(dataDir, 'server') });
    // The server's output: on the terminal, or for --check in a log file (the last line must be the verdict).
    const serverLog = check ? createWriteStream(path.join(dataDir, 'server.log'), { flags: 'a' }) : process.stdout;
    server.stdout.on('data', (chunk) => {
      serverLog.write(chunk);
      enrollment ??= enrollmentCodeFromServerOutput(chunk.toString());
    });
    process.on('exit', () => stopProcessTree(server));
    try {
      fingerprint = await waitForServer(serverUrl, server);
    } catch (e) {
      stopProcessTree(server);
      fail(`${e.message}.`);
    }
    // The enrollment code is printed right after the server starts listening; give it a moment.
    for (let i = 0; i < 50 && !enrollment; i++) await new Promise((r) => setTimeout(r, 100));
  }

  // A development policy: read only by an unpackaged build (EHR_DEV_POLICY_FILE is ignored when packaged).
  const policyFile = path.join(dataDir, 'dev-policy.json');
  writeFileSync(policyFile, JSON.stringify({ serverUrl, serverCertFingerprint: fingerprint, lockTimeoutMinutes: 15 }, null, 2) + '\n');
  const env = {
    ...process.env,
    EHR_DEV_POLICY_FILE: policyFile,
    EHR_DATA_DIR: dataDir,
    ...(enrollment ? { EHR_DEV_ENROLLMENT_CODE: enrollment } : {}),
  };

  // A code given on the command line (a server that was already running prints none here).
  const enrollArgs = argv.filter((a) => a.startsWith('--enroll-code='));
  const app = host === 'electron'
    ? spawn(electron.path, [root, ...enrollArgs], { cwd: root, stdio: 'inherit', env: { ...env, ELECTRON_ENABLE_SECURITY_WARNINGS: 'true' } })
    : spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src-main/chromium-host/main.ts'), ...(check ? ['--check'] : []), ...enrollArgs], { cwd: root, stdio: 'inherit', env });
  // Ctrl+C reaches the app too (same process group); a signal sent to this script alone is passed
  // on. Either way the app closes its vault first, and only then does the server stop.
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => app.kill(sig));
  const code = await new Promise((resolve) => app.on('exit', (c, s) => resolve(c ?? (s === 'SIGINT' ? 130 : 143))));
  if (server) {
    stopProcessTree(server);
    await new Promise((r) => (server.exitCode !== null || server.signalCode !== null ? r() : server.once('exit', r)));
  }
  process.exit(code);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`npm start: ${e?.message ?? e}`);
    process.exit(1);
  });
}
