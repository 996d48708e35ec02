/**
 * Playwright `_electron` smoke test: launch the real app, log in as a demo user, lock it through the
 * OS screen-lock event, and check that the lock screen replaced every chart. Runs where an Electron
 * binary exists (a networked developer or CI machine) and reports SKIPPED with the reason where it
 * does not (an offline install: ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 *
 * Needs: `npm run build`, the Electron-ABI database engine (`node scripts/build-main.mjs --native`),
 * a keychain (npm run test:shell provides one) and the sync server (started here).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { _electron as electron, type ElectronApplication } from '@playwright/test';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const start = (await import(pathToFileURL(path.join(root, 'scripts/start.mjs')).href)) as {
  electronBinaryStatus: () => { ok: true; path: string } | { ok: false; reason: string };
  waitForServer: (url: string, child: ChildProcess, timeoutMs?: number) => Promise<string>;
  enrollmentCodeFromServerOutput: (text: string) => string | undefined;
  spawnSyncServer: (env: NodeJS.ProcessEnv, stdio?: unknown) => ChildProcess;
  stopProcessTree: (child: ChildProcess) => void;
};

function skipReason(): string | null {
  const status = start.electronBinaryStatus();
  if (!status.ok) return `no Electron binary on this machine: ${status.reason}`;
  const abi = readFileSync(path.join(root, 'node_modules/electron/abi_version'), 'utf8').trim();
  const native = path.join(root, 'native', `electron-${abi}-${process.platform}-${process.arch}`, 'better_sqlite3.node');
  if (!existsSync(native)) return `the Electron build of the database engine is missing (run: node scripts/build-main.mjs --native)`;
  return null;
}

const reason = skipReason();
if (reason) console.warn(`[shell] Electron smoke test SKIPPED: ${reason}`);

describe('Electron app (smoke)', () => {
  let server: ChildProcess | undefined;
  let app: ElectronApplication | undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ehr-smoke-'));

  afterAll(async () => {
    await app?.close().catch(() => {});
    if (server) start.stopProcessTree(server);
    rmSync(tmp, { recursive: true, force: true });
  });

  it.skipIf(reason !== null)(
    `launches, logs in and locks${reason ? ` — SKIPPED: ${reason}` : ''}`,
    async () => {
      const build = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
      expect(build.status).toBe(0);

      // A private server (own data dir, own port) so a developer's running server is left alone.
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const serverUrl = `https://127.0.0.1:${port}`;
      server = start.spawnSyncServer({ ...process.env, DATA_DIR: path.join(tmp, 'server'), PORT: String(port), SEED: 'demo' }, ['ignore', 'pipe', 'ignore']);
      let output = '';
      server.stdout?.on('data', (c: Buffer) => (output += c.toString()));
      const fingerprint = await start.waitForServer(serverUrl, server);
      await expect.poll(() => start.enrollmentCodeFromServerOutput(output), { timeout: 30_000 }).toBeTruthy();
      const enrollmentCode = start.enrollmentCodeFromServerOutput(output)!;
      const policyFile = path.join(tmp, 'policy.json');
      writeFileSync(policyFile, JSON.stringify({ serverUrl, serverCertFingerprint: fingerprint, lockTimeoutMinutes: 15 }));

      app = await electron.launch({
        args: [root],
        cwd: root,
        env: {
          ...process.env,
          EHR_DEV_POLICY_FILE: policyFile,
          EHR_DEV_USER_DATA: path.join(tmp, 'profile'),
          EHR_DEV_ENROLLMENT_CODE: enrollmentCode,
        } as Record<string, string>,
        timeout: 60_000,
      });
      const page = await app.firstWindow();
      expect(page.url()).toMatch(/^app:\/\/ehr\//);
      // The sandboxed renderer sees only the bridge: no Node, no require.
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => Object.keys((globalThis as unknown as { ehr: object }).ehr).sort())).toEqual(['invoke', 'on']);

      await page.getByLabel('Username').fill('nurse');
      await page.getByLabel('Password').fill('demo-nurse-2026');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByLabel('Username').count(), { timeout: 30_000 }).toBe(0);

      // The OS locks the screen: main's powerMonitor wiring locks the core, the renderer drops PHI.
      await app.evaluate(({ powerMonitor }) => {
        powerMonitor.emit('lock-screen');
      });
      await page.getByRole('button', { name: 'Unlock' }).waitFor({ timeout: 15_000 });
      const status = await page.evaluate(() =>
        (globalThis as unknown as { ehr: { invoke(c: string, i: unknown): Promise<{ ok: boolean; value?: { state: string } }> } }).ehr.invoke(
          'session.status',
          {},
        ),
      );
      expect(status.ok && status.value?.state).toBe('locked');
    },
    180_000,
  );
});
