/**
 * `npm start -- --check` as a newcomer runs it, from a temporary data folder: the development host
 * brings up the whole stack headless (sync server on PGlite with the demo seed, a keychain, the real
 * core and vault, Chromium under Xvfb), signs in as the demo nurse through the UI, opens a chart,
 * records a vital sign and signs out; a second start reuses the same data; a bad situation is one
 * line and a non-zero exit; and nothing it started is left running.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ehr-start-check-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The environment of a fresh terminal on a headless machine: no display, no D-Bus session and no
 * keyring of the test run (the host must bring its own), this test's data folder and port.
 */
function newcomerEnv(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, EHR_DATA_DIR: dataDir, EHR_SERVER_URL: `https://127.0.0.1:${port}`, ...extra };
  for (const k of ['DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS', 'EHR_KEYRING_READY', 'EHR_IN_DBUS', 'XDG_RUNTIME_DIR', 'XDG_DATA_HOME', 'GNOME_KEYRING_CONTROL']) delete env[k];
  return env;
}

/** Runs `node scripts/start.mjs --check` (asynchronously: a blocked worker cannot talk to vitest). */
async function startCheck(env: NodeJS.ProcessEnv, extraArgs: string[] = []) {
  const child = spawn(process.execPath, [path.join(root, 'scripts/start.mjs'), '--check', ...extraArgs], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), 240_000);
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const lines = `${stdout}\n${stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return { status, stdout, stderr, last: stdout.trim().split('\n').pop() ?? '', lines };
}

/** Processes whose environment names this test's data folder (server, host, Chromium, Xvfb, keyring). */
function processesOfThisTest(): number[] {
  const mine: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie holds no resources; its parent (init here) reaps it
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(dataDir) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir)) mine.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return mine;
}

const stackTrace = /\n\s+at .+:\d+:\d+/;

describe.skipIf(process.platform !== 'linux')('npm start -- --check', () => {
  it('brings the stack up headless, signs in through the UI, records a vital sign, ends with "start check: ok"; a second start reuses the data; nothing is left running', async () => {
    const port = await freePort();
    const first = await startCheck(newcomerEnv(port));
    expect(first.stderr).not.toMatch(stackTrace);
    expect(first.last, first.lines.slice(-8).join('\n')).toBe('start check: ok');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('using a development keyring');
    expect(first.stdout).toContain('workstation enrolled');
    expect(first.stdout).toContain('start check: record a heart rate');
    expect(processesOfThisTest()).toEqual([]);

    // Same folder: the vault opens with the key kept in the keyring, the enrollment is remembered.
    const second = await startCheck(newcomerEnv(port));
    expect(second.last, second.lines.slice(-8).join('\n')).toBe('start check: ok');
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('workstation enrolled');
    expect(processesOfThisTest()).toEqual([]);
  }, 480_000);

  it('a missing Chromium is one line and a non-zero exit, and stops what it started', async () => {
    const r = await startCheck(newcomerEnv(await freePort(), { CHROMIUM_PATH: path.join(dataDir, 'no-such-chromium') }));
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^start check: failed: no Chromium at .*no-such-chromium: install it .* or set CHROMIUM_PATH\.$/);
    expect(r.stderr).not.toMatch(stackTrace);
    expect(processesOfThisTest()).toEqual([]);
  }, 240_000);

  it('with a sync server already running, a new workstation says how to enroll, then enrolls with --enroll-code', async () => {
    const start = (await import(pathToFileURL(path.join(root, 'scripts/start.mjs')).href)) as {
      spawnSyncServer: (env: NodeJS.ProcessEnv) => ChildProcessWithoutNullStreams;
      stopProcessTree: (c: ChildProcessWithoutNullStreams) => void;
      enrollmentCodeFromServerOutput: (t: string) => string | undefined;
    };
    const port = await freePort();
    const own = mkdtempSync(path.join(dataDir, 'own-server-'));
    const server = start.spawnSyncServer({ ...process.env, PORT: String(port), DATA_DIR: own });
    try {
      let out = '';
      const code = await new Promise<string>((resolve, reject) => {
        server.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const c = start.enrollmentCodeFromServerOutput(out);
          if (c) resolve(c);
        });
        server.once('exit', () => reject(new Error('the server exited')));
      });
      const fresh = { EHR_DATA_DIR: mkdtempSync(path.join(dataDir, 'station-')) };
      const refused = await startCheck(newcomerEnv(port, fresh));
      expect(refused.status).toBe(1);
      expect(refused.stderr.trim().split('\n').pop()).toMatch(/^start check: failed: this workstation is not enrolled .* --enroll-code=<code>\.$/);
      const enrolled = await startCheck(newcomerEnv(port, fresh), [`--enroll-code=${code}`]);
      expect(enrolled.last, enrolled.lines.slice(-8).join('\n')).toBe('start check: ok');
      expect(enrolled.stdout).toContain('workstation enrolled');
    } finally {
      start.stopProcessTree(server);
    }
  }, 480_000);

  it('a port held by another program is refused in one line before anything starts', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    try {
      const r = await startCheck(newcomerEnv((holder.address() as net.AddressInfo).port));
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toMatch(/^npm start: port \d+ is in use by another program; .*EHR_SERVER_URL/);
      expect(r.stderr).not.toMatch(stackTrace);
    } finally {
      holder.close();
    }
  }, 120_000);
});
