/**
 * Every security decision about the window, as pure functions: main.ts only wires these to the real
 * Electron objects. Pure so vitest can assert them without the Electron binary (types only from
 * 'electron', never a runtime import here).
 *
 * The renderer holds PHI on screen, so it gets no Node, no remote content, no navigation away from
 * our own app:// origin, no popups, no device or notification permissions (camera and microphone
 * only for an open video visit), and no devtools in a production build.
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
 * One permission question from Chromium, in the shape both Electron handlers can give: the
 * request handler's details (requestingUrl, mediaTypes 'audio' | 'video', isMainFrame) and the
 * check handler's (requestingOrigin / securityOrigin, mediaType 'audio' | 'video' | 'unknown').
 */
export interface PermissionQuestion {
  permission: string;
  /** The requesting page's URL or origin. */
  requestingUrl?: string | undefined;
  /** The devices asked for; empty or anything but audio/video is refused. */
  mediaTypes?: readonly string[] | undefined;
  /** Only the window's own top frame may ever be granted anything. */
  isMainFrame?: boolean | undefined;
}

/** The media kinds a visit opens: the clinician's camera and microphone, nothing else (no screen, no unknown device). */
const VISIT_MEDIA = new Set(['audio', 'video']);
/**
 * Electron's name for navigator.clipboard.writeText: "Copy patient link" in a visit needs it. Reading
 * the clipboard ('clipboard-read') stays refused.
 */
const VISIT_CLIPBOARD_WRITE = 'clipboard-sanitized-write';

/**
 * Permission handlers (request, check): the answer is no unless a video visit needs it
 * (docs/telemedicine.md). Camera and microphone ('media', audio/video only) and writing the patient
 * link to the clipboard are granted only
 *   - to our own app:// origin, in the top frame (never a subframe or anything navigated to),
 *   - while this workstation's signed-in user hosts an open visit and IT policy allows video visits
 *     (`visitOpen`, asked of the core at the moment of the question, so the grant ends with the visit).
 * Everything else (notifications, geolocation, clipboard-read, display capture, USB, serial, HID,
 * fullscreen, openExternal, unknown names) is refused whatever the state.
 */
export function permissionDecision(q: PermissionQuestion, visitOpen: boolean): boolean {
  if (!visitOpen) return false;
  if (q.isMainFrame === false) return false;
  if (!q.requestingUrl || !isAppUrl(q.requestingUrl)) return false;
  if (q.permission === VISIT_CLIPBOARD_WRITE) return true;
  if (q.permission !== 'media') return false;
  const kinds = q.mediaTypes ?? [];
  return kinds.length > 0 && kinds.every((k) => VISIT_MEDIA.has(k));
}

/** USB / serial / HID device access (setDevicePermissionHandler): never; a visit needs no device beyond camera and microphone. */
export function devicePermissionDecision(): false {
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
