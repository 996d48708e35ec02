/**
 * The development host: what `npm start` runs where Electron's binary cannot be had (scripts/start.mjs
 * decides). It is the same workstation as the Electron shell — the real core (createWorkstation:
 * SQLCipher vault, key in the OS keychain, session, access, audit, sync) behind the same
 * `window.ehr` contract and the same CSP — shown in Debian's Chromium instead of an Electron window.
 * Electron remains the product's shell: no installer ever contains this folder.
 *
 * Started by scripts/start.mjs with the development policy (EHR_DEV_POLICY_FILE: server URL and
 * certificate pin), the server's one-time enrollment code (EHR_DEV_ENROLLMENT_CODE) and the data
 * folder (EHR_DATA_DIR). `--check` runs the self-check (self-check.ts) under a private display and
 * ends with `start check: ok` (exit 0) or `start check: failed: <why>` (exit 1).
 *
 * Order: policy -> display (Xvfb when there is none, always for --check) -> core -> enrollment ->
 * window -> [check] ; stop on SIGINT/SIGTERM or when the window closes: window, core (flush, close
 * the vault), display. Every refusal is one line and a non-zero exit, never a stack trace.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { isEhrError } from '../../src-shared/errors';
import { createKeytarKeyStore } from '../core/keychain';
import { loadPolicy } from '../core/policy';
import { createServerClient } from '../core/sync/server-client';
import { createWorkstation, type Workstation } from '../core/workstation';
import { enrollmentCode, enrollWorkstation, isEnrolled, readMarker, writeMarker } from '../electron/enrollment';
import { dataFolder } from './data-folder';
import { DEFAULT_CHROMIUM_PATH, openAppWindow, type AppWindow } from './app-window';
import { describeOpenError, HostError } from './host-error';
import { runSelfCheck } from './self-check';
import { hasDisplay, startXvfb, type VirtualDisplay } from './xvfb';

const say = (line: string) => console.log(`dev host: ${line}`);

async function enroll(ws: Workstation, serverUrl: string, fingerprint: string, markerFile: string): Promise<void> {
  const code = enrollmentCode(process.argv, process.env, false);
  if (isEnrolled(readMarker(markerFile), ws.deviceId, serverUrl)) return;
  if (!code) throw new HostError('this workstation is not enrolled with the sync server already running there: ask its admin for a one-time code and run npm start -- --enroll-code=<code>.');
  const client = createServerClient({ serverUrl, fingerprint, deviceId: ws.deviceId });
  try {
    writeMarker(markerFile, await enrollWorkstation({
      code, deviceId: ws.deviceId, serverUrl, publicKey: ws.vault.device.publicKeyRaw, name: `${os.hostname()} (development host)`,
      enroll: (req) => client.enroll(req),
    }));
    say('workstation enrolled with the sync server');
  } finally {
    client.close();
  }
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const folder = dataFolder(process.env.EHR_DATA_DIR ?? '.data');
  const { vaultDir } = folder;
  mkdirSync(vaultDir, { recursive: true, mode: 0o700 });

  let display: VirtualDisplay | null = null;
  let ws: Workstation | null = null;
  let appWindow: AppWindow | null = null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await appWindow?.close();
      // Pushes what is pending while online (bounded), then closes the vault cleanly.
      await ws?.close().catch(() => say('the vault did not close cleanly; it recovers on next start'));
      await display?.stop();
    })());
  let interrupted = false;
  // Ctrl+C arrives more than once (the terminal signals the whole group, and npm start passes it
  // on): the first one stops, the rest are ignored rather than killing a vault mid-close.
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('stopping (flushing and closing the vault) ...');
    void stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const { policy } = await loadPolicy({ platform: process.platform, allowDevOverride: true });
    if (check || !hasDisplay(process.env)) {
      display = await startXvfb();
      say(check ? `self-check on a private display (Xvfb ${display.display})` : `no display here: Chromium runs on Xvfb ${display.display} (headless)`);
    }
    try {
      ws = await createWorkstation({
        dataDir: vaultDir,
        keyStore: createKeytarKeyStore(folder.keychainService),
        policy,
        server: { url: policy.serverUrl, fingerprint: policy.serverCertFingerprint },
        closeFlushMs: 8_000,
      });
    } catch (e) {
      throw new HostError(describeOpenError(e, vaultDir));
    }
    await enroll(ws, policy.serverUrl, policy.serverCertFingerprint, folder.enrollmentMarker);
    if (interrupted) return 130;
    appWindow = await openAppWindow({
      chromiumPath: process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH,
      display: display?.display ?? process.env.DISPLAY ?? '',
      core: ws,
    });
    // A Ctrl+C while Chromium was starting found no window to close: close it now.
    if (interrupted) {
      await appWindow.close();
      return 130;
    }
    if (check) {
      await runSelfCheck(appWindow.page, undefined, (l) => console.log(l));
      await stop();
      console.log('start check: ok');
      return 0;
    }
    say('Clinic EHR is running in Chromium (development host; Electron is the product shell). Ctrl+C stops it.');
    await appWindow.closed;
    await stop();
    return interrupted ? 130 : 0;
  } catch (e) {
    await stop().catch(() => undefined);
    if (interrupted) return 130;
    const why = e instanceof HostError || isEhrError(e) ? e.message : e instanceof Error && e.name === 'CheckFailed' ? e.message : describeOpenError(e, vaultDir);
    console.error(check ? `start check: failed: ${why}` : `npm start: ${why}`);
    return 1;
  }
}

// Exit explicitly: a closed core and browser leave nothing to wait for, and a stray handle
// (a keep-alive socket) must not keep a stopped host alive.
process.exit(await main());
