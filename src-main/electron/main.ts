/**
 * The Electron main process: wires the pure shell modules (security, app-protocol, ipc, lifecycle,
 * shell-config, enrollment, updater) and the workstation core to the real electron
 * module. Every decision lives in those modules and is tested there (test/shell/main-wiring.test.ts
 * runs this file against a stand-in electron); this file only connects them, in this order:
 *   single-instance lock -> app:// scheme privileges -> ready -> IT policy (stop if invalid) ->
 *   native binary -> core (vault + sync) -> enrollment if asked -> session hardening -> app://
 *   handler -> IPC -> window -> crash/hang watch -> power events -> quit guard -> updates.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { app, BrowserWindow, dialog, ipcMain, Menu, powerMonitor, protocol, session, type Session, type WebContents } from 'electron';
import { isEhrError } from '../../src-shared/errors';
import { createKeytarKeyStore } from '../core/keychain';
import { chooseNativeBinding } from '../core/native';
import { loadPolicy, type EffectivePolicy } from '../core/policy';
import { createServerClient } from '../core/sync/server-client';
import { createWorkstation, type Workstation } from '../core/workstation';
import { createAppProtocolHandler } from './app-protocol';
import { APP_ENTRY_URL, APP_SCHEME } from './app-url';
import type { ShellCore } from './core-port';
import { enrollmentCode, enrollWorkstation, isEnrolled, readMarker, writeMarker } from './enrollment';
import { forwardEvents, isTrustedSender, registerIpc, senderInfo } from './ipc';
import { createQuitGuard, createRendererWatch, wirePowerEvents } from './lifecycle';
import {
  allowPageTitleUpdate,
  allowWebviewAttach,
  buildWindowOptions,
  isAllowedNavigation,
  isAllowedRequest,
  devicePermissionDecision,
  permissionDecision,
  RENDERER_PARTITION,
  windowOpenDecision,
} from './security';
import { devUserDataDir, shellConfig, type ShellConfig } from './shell-config';
import { startAutoUpdate, type AutoUpdaterLike } from './updater';

/** Log lines carry codes and ids only (never a message that might hold PHI from a lower layer). */
function logError(where: string, e: unknown): void {
  console.error(`[shell] ${where}: ${isEhrError(e) ? e.code : 'unexpected error'}`);
}

/**
 * Shows a PHI-free message and exits non-zero: an invalid policy, a missing keychain, etc. Only an
 * EhrError's message is shown (those are written to be read); anything else gets a generic one.
 */
function fatal(title: string, e: unknown): void {
  const message = isEhrError(e) ? e.message : 'The app could not start. Restart it; if this persists, tell IT.';
  logError(title, e);
  dialog.showErrorBox(title, message);
  app.exit(1);
}

function readUserSettings(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return undefined; // missing or unreadable: no user preferences, policy as is
  }
}

/**
 * `visitOpen` is asked at each question, so camera and microphone go with the visit. The default
 * session never hosts the window: it gets `() => false`.
 */
function hardenSession(ses: Session, cfg: ShellConfig, visitOpen: () => boolean): void {
  ses.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(permissionDecision({
      permission,
      requestingUrl: details.requestingUrl,
      mediaTypes: 'mediaTypes' in details ? details.mediaTypes : undefined,
      isMainFrame: details.isMainFrame,
    }, visitOpen())));
  ses.setPermissionCheckHandler((_wc, permission, requestingOrigin, details) =>
    permissionDecision({
      permission,
      requestingUrl: requestingOrigin,
      mediaTypes: details.mediaType ? [details.mediaType] : undefined,
      isMainFrame: details.isMainFrame,
    }, visitOpen()));
  ses.setDevicePermissionHandler(() => devicePermissionDecision());
  ses.setDisplayMediaRequestHandler((_req, callback) => callback({}));
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, cfg.devTools) }));
  ses.setSpellCheckerEnabled(false);
}

function guardWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(() => windowOpenDecision());
  const refuseNavigation = (event: { preventDefault(): void }, url: string) => {
    if (!isAllowedNavigation(url)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => refuseNavigation(event, event.url));
  contents.on('will-frame-navigate', (event) => refuseNavigation(event, event.url));
  contents.on('will-redirect', (event) => refuseNavigation(event, event.url));
  contents.on('will-attach-webview', (event) => {
    if (!allowWebviewAttach()) event.preventDefault();
  });
}

/**
 * Enrolls the workstation when a code was given (--enroll-code=, or npm start's development code)
 * and it is not enrolled with this server yet. A failure is shown but does not stop the app: offline
 * logins of known users still work, and IT can retry with a new code.
 */
async function enrollIfAsked(ws: Workstation, serverUrl: string, fingerprint: string, markerFile: string, argv: readonly string[]): Promise<void> {
  const code = enrollmentCode(argv, process.env, app.isPackaged);
  if (!code || isEnrolled(readMarker(markerFile), ws.deviceId, serverUrl)) return;
  const client = createServerClient({ serverUrl, fingerprint, deviceId: ws.deviceId });
  try {
    const marker = await enrollWorkstation({
      code,
      deviceId: ws.deviceId,
      serverUrl,
      publicKey: ws.vault.device.publicKeyRaw,
      name: os.hostname(),
      enroll: (req) => client.enroll(req),
    });
    writeMarker(markerFile, marker);
    console.log('[shell] workstation enrolled');
  } catch (e) {
    logError('enrollment', e);
    dialog.showErrorBox('Clinic EHR: enrollment failed', isEhrError(e) ? e.message : 'This workstation could not be enrolled. Tell IT.');
  } finally {
    client.close();
  }
}

async function start(): Promise<void> {
  const cfg = shellConfig({
    isPackaged: app.isPackaged,
    mainDir: __dirname,
    resourcesPath: process.resourcesPath,
    appPath: app.getAppPath(),
    userDataDir: app.getPath('userData'),
  });

  let effective: EffectivePolicy;
  try {
    effective = await loadPolicy({
      platform: process.platform,
      allowDevOverride: cfg.allowDevPolicy,
      userSettings: readUserSettings(cfg.userSettingsFile),
    });
  } catch (e) {
    return fatal('Clinic EHR: IT policy problem', e);
  }
  const policy = effective.policy;
  if (effective.ignoredUserSettings.length) {
    console.warn(`[shell] user settings ignored (IT policy wins): ${effective.ignoredUserSettings.join(', ')}`);
  }

  let ws: Workstation;
  try {
    const native = chooseNativeBinding(
      { versions: process.versions, platform: process.platform, arch: process.arch },
      cfg.nativeRoots,
      existsSync,
    );
    ws = await createWorkstation({
      dataDir: cfg.vaultDir,
      keyStore: createKeytarKeyStore(),
      policy,
      server: { url: policy.serverUrl, fingerprint: policy.serverCertFingerprint },
      nativeBinding: native.path,
      // The core builds its own sync engine for the configured server; on quit, close() pushes what
      // is pending while online, for at most 8 s.
      closeFlushMs: 8_000,
    });
  } catch (e) {
    return fatal('Clinic EHR cannot open its secure storage', e);
  }
  const core: ShellCore = ws;
  await enrollIfAsked(ws, policy.serverUrl, policy.serverCertFingerprint, cfg.enrollmentMarkerFile, process.argv);

  // The window's in-memory session serves app:// and is locked down; the default session (unused)
  // is locked down too, so nothing that might fall back to it gets more.
  const rendererSession = session.fromPartition(RENDERER_PARTITION);
  hardenSession(rendererSession, cfg, () => ws.mediaCaptureAllowed());
  hardenSession(session.defaultSession, cfg, () => false);
  app.on('web-contents-created', (_e, contents) => guardWebContents(contents));
  rendererSession.protocol.handle(APP_SCHEME, createAppProtocolHandler({ rootDir: cfg.rendererRoot }));

  const trustedIds = new Set<number>();
  registerIpc({
    ipcMain,
    core,
    isTrusted: (event: Electron.IpcMainInvokeEvent) => isTrustedSender(senderInfo(event), trustedIds),
    onRefused: (reason) => console.warn(`[shell] IPC refused (${reason})`),
  });

  if (process.platform !== 'darwin') Menu.setApplicationMenu(null);
  const win = new BrowserWindow(buildWindowOptions({ preloadPath: cfg.preloadPath, devTools: cfg.devTools }));
  trustedIds.add(win.webContents.id);
  win.once('ready-to-show', () => win.show());
  win.on('page-title-updated', (event) => {
    if (!allowPageTitleUpdate()) event.preventDefault();
  });
  forwardEvents(core, (channel, event, payload) => win.webContents.send(channel, event, payload), () => !win.isDestroyed());

  const watch = createRendererWatch({
    core,
    reload: () => void win.loadURL(APP_ENTRY_URL),
    crashRenderer: () => win.webContents.forcefullyCrashRenderer(),
    giveUp: () => {
      dialog.showErrorBox('Clinic EHR stopped', 'The window kept failing and was closed. Your drafts are saved. Restart the app; if this repeats, tell IT.');
      app.quit();
    },
    onError: (e) => logError('lock after renderer failure', e),
  });
  let quitting = false;
  app.on('before-quit', () => {
    quitting = true;
  });
  // A renderer that dies while we quit, or with its window, is not a crash to recover from.
  win.webContents.on('render-process-gone', () => {
    if (!quitting && !win.isDestroyed()) watch.onGone();
  });
  win.on('unresponsive', () => watch.onUnresponsive());
  win.on('responsive', () => watch.onResponsive());

  wirePowerEvents({
    powerMonitor,
    core,
    idleLockSeconds: () => policy.lockTimeoutMinutes * 60,
    onError: (e) => logError('power lock', e),
  });
  // Shutdown/reboot: delay it long enough to flush and close the vault (before-quit does the work).
  // (The typings omit the event argument that the docs describe; hence the optional parameter.)
  powerMonitor.on('shutdown', (event?: { preventDefault?: () => void }) => {
    event?.preventDefault?.();
    app.quit();
  });
  // Quit: core.close() pushes what is pending while online (at most 8 s), then closes the vault;
  // the guard's own 15 s bound covers a vault that will not close.
  app.on(
    'before-quit',
    createQuitGuard({ core, quit: () => app.quit(), timeoutMs: 15_000, onError: (e) => logError('close', e) }),
  );
  app.on('window-all-closed', () => app.quit());
  // A second launch (e.g. IT running --enroll-code= while the app is open) comes here instead.
  app.on('second-instance', (_event, argv) => {
    void enrollIfAsked(ws, policy.serverUrl, policy.serverCertFingerprint, cfg.enrollmentMarkerFile, argv);
    if (win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  startAutoUpdate({
    // Installed builds only, and not where IT deploys every version itself (policy autoUpdate: false).
    enabled: cfg.autoUpdate && policy.autoUpdate !== false,
    // Loaded lazily: electron-updater is only needed (and only configured) in an installed build.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    updater: () => (require('electron-updater') as { autoUpdater: AutoUpdaterLike }).autoUpdater,
    onError: () => console.warn('[shell] update check failed'),
  });

  await win.loadURL(APP_ENTRY_URL);
}

// A development profile must be chosen before the single-instance lock, which is keyed by it.
const devProfile = devUserDataDir(app.isPackaged, process.env);
if (devProfile) app.setPath('userData', devProfile);

// One instance per workstation user: a second launch focuses the first (two would share the vault).
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // Before 'ready': app:// behaves like https (standard, secure origin) so CSP 'self' and module
  // scripts work; it does not bypass CSP.
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
  app.enableSandbox();
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => fatal('Clinic EHR could not start', e));
}
