#!/usr/bin/env node
// `npm start`: the development app. Checks that Electron's binary is installed (an offline install
// skips it) and says plainly how to fix it if not; otherwise builds main + renderer, starts the sync
// server (embedded PGlite, demo seed) in the background, waits for it, writes a development policy
// pointing at it (with its certificate fingerprint), and launches Electron with that policy.
//   node scripts/start.mjs --check   only the Electron binary check (exit 0 / 1)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
    '  Without Electron you can still run the tests (npm test) and the renderer end to end in Chromium (npm run test:e2e).',
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

async function main() {
  const status = electronBinaryStatus();
  if (!status.ok) {
    console.error(missingBinaryMessage(status.reason));
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    console.log(`Electron binary: ${status.path}`);
    return;
  }

  // The Electron-ABI database engine: built once, beside (never instead of) Node's build.
  const native = electronNativeDir();
  run(process.execPath, [path.join(root, 'scripts/build-main.mjs'), ...(existsSync(native) ? [] : ['--native'])]);
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:renderer']);

  const serverUrl = process.env.EHR_SERVER_URL ?? 'https://127.0.0.1:8443';
  let fingerprint = await serverFingerprint(serverUrl).catch(() => null);
  let enrollment;
  if (fingerprint) {
    console.log(`Using the sync server already running at ${serverUrl}.`);
    console.log('  (A new workstation profile must be enrolled: run the app once with --enroll-code=<code from that server>.)');
  } else {
    console.log(`Starting the sync server (embedded PGlite, demo data) at ${serverUrl} ...`);
    const port = new URL(serverUrl).port || '443';
    const server = spawnSyncServer({ ...process.env, PORT: port });
    // Echo the server's output, and keep its one-time enrollment code for the app's first start.
    server.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      enrollment ??= enrollmentCodeFromServerOutput(chunk.toString());
    });
    process.on('exit', () => stopProcessTree(server));
    process.on('SIGINT', () => process.exit(130));
    process.on('SIGTERM', () => process.exit(143));
    try {
      fingerprint = await waitForServer(serverUrl, server);
    } catch (e) {
      console.error(`npm start: ${e.message}.`);
      process.exit(1);
    }
  }

  // A development policy: read only by an unpackaged build (EHR_DEV_POLICY_FILE is ignored when packaged).
  const policyFile = path.join(root, '.data', 'dev-policy.json');
  mkdirSync(path.dirname(policyFile), { recursive: true });
  writeFileSync(policyFile, JSON.stringify({ serverUrl, serverCertFingerprint: fingerprint, lockTimeoutMinutes: 15 }, null, 2) + '\n');

  const app = spawn(status.path, [root], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      EHR_DEV_POLICY_FILE: policyFile,
      ...(enrollment ? { EHR_DEV_ENROLLMENT_CODE: enrollment } : {}),
      ELECTRON_ENABLE_SECURITY_WARNINGS: 'true',
    },
  });
  app.on('exit', (code) => process.exit(code ?? 0));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`npm start: ${e?.message ?? e}`);
    process.exit(1);
  });
}
