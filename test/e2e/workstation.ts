/**
 * The workstation fixture: a clinic workstation as a test sees it — the production renderer build
 * in Debian's Chromium, wired to the REAL main-process core (createWorkstation: SQLCipher vault
 * with its key in the real OS keychain, session, access, audit, sync) through the same
 * `window.ehr` contract the Electron preload exposes, talking to a real sync server on loopback.
 *
 *   const server = await startE2eServer();                         // startServer, demo seed, port 0
 *   const ws = await launchWorkstation({ browser, server, name: 'nurse-station' });
 *   await ws.login(NURSE);                                          // through the UI
 *   ws.clock.advance(15 * 60_000);                                  // the core's fake clock: idle lock
 *   await ws.eventsDelivered();
 *   await ws.close();
 *
 * Several workstations run at once against one server: each has its own data dir, its own
 * keychain service name (so its own vault key), its own enrolled device id, browser context and
 * fake clock. Run inside scripts/keyring-session.sh (npm run test:e2e does) so keytar reaches a
 * real Secret Service; the fixture refuses to fall back to an in-memory key store.
 *
 * The page is put in front of the core by the development host's own bridge
 * (src-main/chromium-host/bridge-page.ts): what the tests drive is what `npm start` runs without
 * Electron. No network port is involved: the renderer's files are routed over the DevTools pipe with
 * the Electron shell's CSP, and every call goes through one binding into this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect, type Browser, type Page } from '@playwright/test';
import { createWorkstation, type Workstation } from '../../src-main/core/workstation';
import { createKeytarKeyStore, KeychainAccount, KeychainUnavailableError } from '../../src-main/core/keychain';
import { FakeClock } from '../../src-main/core/session';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { loadStartServer, type RunningE2eServer } from './server-loader';
import type { Policy } from '../../src-shared/policy';
import { openBridgedPage } from '../../src-main/chromium-host/bridge-page';
import { unlockTestKeyring } from '../vault/helpers';

export const NURSE = { username: 'nurse', password: 'demo-nurse-2026' } as const;
export const DOCTOR = { username: 'doctor', password: 'demo-doctor-2026' } as const;
export const DOCTOR2 = { username: 'doctor2', password: 'demo-doctor2-2026' } as const;
export const PRIVACY = { username: 'privacy', password: 'demo-privacy-2026' } as const;
/** The demo seed's restricted patient, on no care team (break-glass). */
export const RESTRICTED_PATIENT = 'demo-p-0001';

export interface E2eServer extends RunningE2eServer {
  dataDir: string;
  /** Stop and start again on the same port and data (clients keep their URL and pin): "the network comes back". */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The real sync server on loopback, PGlite in a temp dir (PostgreSQL is covered by test/server and test/sync). */
export async function startE2eServer(opts: { demoPatients?: number } = {}): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ehr-e2e-server-'));
  const base = {
    dataDir,
    host: '127.0.0.1',
    // No rateMonitor override: key unwraps at sync no longer count as record accesses on the server,
    // so the e2e runs with the server's default access-rate monitor.
  };
  const startServer = await loadStartServer();
  let running = await startServer({ ...base, port: 0, seed: 'demo', demoPatients: opts.demoPatients ?? 12 });
  let up = true;
  const port = running.port;
  const server: E2eServer = Object.assign(Object.create(null) as E2eServer, running, {
    dataDir,
    async stop() {
      if (up) await running.close();
      up = false;
    },
    async restart() {
      await server.stop();
      running = await startServer({ ...base, port, seed: 'none' });
      up = true;
      Object.assign(server, running, { stop: server.stop, restart: server.restart, close: server.close });
    },
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
  return server;
}

export interface LaunchOptions {
  browser: Browser;
  /** The sync server; null for a workstation that never had one (offline-only). */
  server: Pick<RunningE2eServer, 'url' | 'fingerprint' | 'issueEnrollmentCode'> | null;
  /** A label for screenshots and the keychain service name. */
  name: string;
  policy?: Partial<Policy>;
}

export interface E2eWorkstation {
  name: string;
  page: Page;
  core: Workstation;
  /** The core's clock: advance it to make 15 idle minutes pass in no time. */
  clock: FakeClock;
  /**
   * Let `ms` pass on the core's clock with the user active (a heartbeat every 10 minutes, so the
   * inactivity lock does not fire), then wait for the events to reach the page.
   */
  passActiveTime(ms: number): Promise<void>;
  /** Resolves once every event the core emitted so far has reached the page. */
  eventsDelivered(): Promise<void>;
  /** Sign in through the login screen and wait for the app shell. */
  login(user: { username: string; password: string }): Promise<void>;
  /** Sign in, then pull from the server (what a clinician's first "Sync now" does). */
  loginAndSync(user: { username: string; password: string }): Promise<void>;
  /** Save a full-page screenshot as test-results/screens/<name>-<label>.png. */
  screenshot(label: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The private keyring's daemon is sometimes found locked again when several keyring sessions run
 * on one machine (test/vault/helpers.ts); the vault area's unlockTestKeyring repairs it. Retry a few times.
 */
async function withUnlockedKeyring<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof KeychainUnavailableError) || attempt >= 4) throw e;
      await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
      await unlockTestKeyring();
    }
  }
}

export async function launchWorkstation(opts: LaunchOptions): Promise<E2eWorkstation> {
  if (process.env.EHR_KEYRING_READY !== '1') {
    throw new Error('launchWorkstation needs a real keychain: run inside scripts/keyring-session.sh (npm run test:e2e does)');
  }
  // The vault area's probe: re-unlocks the private keyring if its daemon came up locked.
  await unlockTestKeyring();
  const dataDir = mkdtempSync(join(tmpdir(), `ehr-e2e-ws-${opts.name}-`));
  // One keychain entry per workstation: several run side by side in one keyring session.
  const keyStore = createKeytarKeyStore(`clinic-ehr-e2e-${opts.name}-${randomUUID().slice(0, 8)}`);
  const clock = new FakeClock(Date.now());
  const core = await withUnlockedKeyring(() =>
    createWorkstation({
      dataDir,
      keyStore,
      clock,
      policy: opts.policy ?? {},
      server: opts.server ? { url: opts.server.url, fingerprint: opts.server.fingerprint } : null,
    }),
  );
  if (opts.server) {
    // IT enrolls each workstation once (docs/server.md); the core has no channel for it.
    const client = createServerClient({ serverUrl: opts.server.url, fingerprint: opts.server.fingerprint, deviceId: core.deviceId });
    await client.enroll({ code: await opts.server.issueEnrollmentCode(), publicKey: core.vault.device.publicKeyRaw, name: `e2e ${opts.name}` });
    client.close();
  }
  const context = await opts.browser.newContext({ viewport: { width: 1280, height: 860 } });
  const bridged = await openBridgedPage(context, core);
  const { page } = bridged;

  const ws: E2eWorkstation = {
    name: opts.name,
    page,
    core,
    clock,
    eventsDelivered: bridged.eventsDelivered,
    async passActiveTime(ms) {
      for (let left = ms; left > 0; left -= 10 * 60_000) {
        core.heartbeat();
        clock.advance(Math.min(left, 10 * 60_000));
      }
      await bridged.eventsDelivered();
    },
    async login(user) {
      await page.getByLabel('Username').fill(user.username);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByTestId('statusbar')).toBeVisible();
    },
    async loginAndSync(user) {
      await ws.login(user);
      await page.getByRole('button', { name: 'Sync now' }).click();
      await expect(page.getByTestId('sync-state')).toContainText('Online');
      await expect(page.getByTestId('last-sync')).not.toContainText('never', { timeout: 30_000 });
      await expect(page.getByTestId('sync-state')).not.toContainText('syncing', { timeout: 30_000 });
    },
    async screenshot(label) {
      await page.screenshot({ path: `test-results/screens/${opts.name}-${label}.png`, fullPage: true });
    },
    async close() {
      bridged.detach();
      await context.close();
      await core.close();
      // Leave nothing in the keyring session: the workstation's key entries go with it.
      for (const account of Object.values(KeychainAccount)) await keyStore.delete(account).catch(() => false);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return ws;
}
