/**
 * Every security decision about the window, as pure functions: main.ts only wires these to the real
 * Electron objects. Pure so vitest can assert them without the Electron binary (types only from
 * 'electron', never a runtime import here).
 *
 * The renderer holds PHI on screen, so it gets no Node, no remote content, no navigation away from
 * our own app:// origin, no popups, no device or notification permissions, and no devtools in a
 * production build.
 */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { APP_ORIGIN, isAppUrl } from './app-url';

/**
 * The renderer's session partition. Without the `persist:` prefix Chromium keeps it in memory only:
 * no HTTP cache, cookies, localStorage or IndexedDB ever reach the disk, so nothing the page holds
 * can be left behind in the profile (drafts are saved encrypted in the vault instead).
 */
export const RENDERER_PARTITION = 'ehr-renderer';

export interface WindowSecurityOptions {
  /** Absolute path of the bundled preload (dist/main/electron/preload.cjs). */
  preloadPath: string;
  /** Devtools: only in an unpackaged development build, never in a release. */
  devTools: boolean;
}

/** The webPreferences of our one window: every hardening switch set explicitly, not left to defaults. */
export function buildWebPreferences(opts: WindowSecurityOptions): WebPreferences {
  return {
    preload: opts.preloadPath,
    partition: RENDERER_PARTITION,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    // Chromium's spellchecker on Linux/Windows downloads dictionaries and can send typed words to a
    // service: clinical notes are PHI, so it stays off.
    spellcheck: false,
    safeDialogs: true,
    devTools: opts.devTools,
    // A throttled hidden window must still receive the lock event promptly.
    backgroundThrottling: false,
  };
}

export function buildWindowOptions(opts: WindowSecurityOptions): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    // Shown on 'ready-to-show' so no half-rendered frame flashes.
    show: false,
    title: WINDOW_TITLE,
    backgroundColor: '#ffffff',
    autoHideMenuBar: true,
    webPreferences: buildWebPreferences(opts),
  };
}

/**
 * The Content-Security-Policy every app:// response carries. No inline script or style, nothing
 * remote: the renderer talks to the network only through the main process (window.ehr).
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'none'",
    // Recording playback: decrypted chunks become a Blob and an object URL (blob:, same origin only).
    // Live video uses srcObject (a MediaStream, no URL), which media-src does not govern.
    "media-src blob:",
    "object-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "child-src 'none'",
    "manifest-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers added to every response the app:// handler serves. */
export function securityHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

/**
 * Navigation (will-navigate / will-frame-navigate / will-redirect): the app is a single page, so
 * the only navigation we accept is to our own origin (a reload). Everything else, including
 * file://, http(s):// and javascript:, is refused.
 */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url);
}

/** window.open and target=_blank: always denied; links to the outside world are not part of the app. */
export function windowOpenDecision(): { action: 'deny' } {
  return { action: 'deny' };
}

/**
 * Which requests the session lets through (webRequest.onBeforeRequest). Only our app:// origin and
 * inline data: images, plus devtools:// when devtools are allowed (a development build). Blocks remote content even if
 * a CSP were ever weakened.
 */
export function isAllowedRequest(url: string, devTools: boolean): boolean {
  if (isAppUrl(url)) return true;
  // Inline images the CSP allows (img-src data:); a data: URL never reaches the network.
  if (url.startsWith('data:image/')) return true;
  if (devTools && (url.startsWith('devtools://') || url.startsWith('chrome-extension://'))) return true;
  return false;
}

/**
 * Permission handlers (request, check, device, display media): every one says no. The app needs no
 * camera, microphone, notifications, geolocation, clipboard-read, USB, serial or HID.
 * `permission` is taken only so a log line could name it; the answer never depends on it.
 */
export function permissionDecision(_permission: string, _origin?: string): false {
  return false;
}

/**
 * The window title stays "Clinic EHR": a page title (which could name a patient) would otherwise show
 * in the taskbar, the window switcher, screen sharing, and to every app that lists windows.
 */
export const WINDOW_TITLE = 'Clinic EHR';
export function allowPageTitleUpdate(): false {
  return false;
}

/** Attaching a <webview> is refused outright (webviewTag is off too; this is the second lock). */
export function allowWebviewAttach(): false {
  return false;
}

export { APP_ORIGIN };
