import { describe, expect, it } from 'vitest';
import {
  allowWebviewAttach,
  buildWebPreferences,
  buildWindowOptions,
  contentSecurityPolicy,
  isAllowedNavigation,
  isAllowedRequest,
  devicePermissionDecision,
  permissionDecision,
  RENDERER_PARTITION,
  securityHeaders,
  windowOpenDecision,
} from '../../src-main/electron/security';
import { APP_ENTRY_URL, isAppUrl } from '../../src-main/electron/app-url';

/** Parses "a x y; b z" into { a: ['x','y'], b: ['z'] }. */
function parseCsp(csp: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of csp.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [name, ...values] = part.split(/\s+/);
    out[name!] = values;
  }
  return out;
}

describe('window webPreferences', () => {
  it('turns every isolation switch the secure way, in production and in development', () => {
    for (const devTools of [false, true]) {
      const p = buildWebPreferences({ preloadPath: '/app/preload.cjs', devTools });
      expect(p).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        experimentalFeatures: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        preload: '/app/preload.cjs',
      });
      expect(p.devTools).toBe(devTools);
    }
  });

  it('uses an in-memory session: nothing the page stores (cache, storage, cookies) reaches the disk', () => {
    const p = buildWebPreferences({ preloadPath: '/p.cjs', devTools: false });
    expect(p.partition).toBe(RENDERER_PARTITION);
    expect(RENDERER_PARTITION.startsWith('persist:')).toBe(false);
    expect(p.session).toBeUndefined();
  });

  it('the window starts hidden with those preferences', () => {
    const o = buildWindowOptions({ preloadPath: '/p.cjs', devTools: false });
    expect(o.show).toBe(false);
    expect(o.title).toBe('Clinic EHR');
    expect(o.webPreferences?.sandbox).toBe(true);
    expect(o.webPreferences?.devTools).toBe(false);
  });
});

describe('content security policy', () => {
  const csp = parseCsp(contentSecurityPolicy());

  it('defaults to nothing and allows scripts and styles only from our own origin', () => {
    expect(csp['default-src']).toEqual(["'none'"]);
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['style-src']).toEqual(["'self'"]);
    expect(csp['img-src']).toEqual(["'self'", 'data:']);
  });

  it('has no inline, eval, wildcard or remote source anywhere', () => {
    for (const [directive, values] of Object.entries(csp)) {
      for (const v of values) {
        expect(v, directive).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|unsafe-hashes|\*|^https?:|^http|^ws|^filesystem:/);
        // blob: only where recording playback needs it (an object URL of our own origin).
        if (directive !== 'media-src') expect(v, directive).not.toMatch(/^blob:/);
      }
    }
  });

  it('forbids network connections, frames, objects, forms and base-uri changes', () => {
    for (const d of ['connect-src', 'frame-src', 'object-src', 'form-action', 'base-uri', 'frame-ancestors', 'worker-src']) {
      expect(csp[d], d).toEqual(["'none'"]);
    }
  });

  it('allows media only from blob: object URLs (recording playback)', () => {
    expect(csp['media-src']).toEqual(['blob:']);
  });

  it('is sent as a header with nosniff on every response', () => {
    const h = securityHeaders();
    expect(h['Content-Security-Policy']).toBe(contentSecurityPolicy());
    expect(h['X-Content-Type-Options']).toBe('nosniff');
    expect(h['Cache-Control']).toBe('no-store');
  });
});

describe('navigation, popups, requests, permissions', () => {
  it('allows navigation only within app://ehr', () => {
    expect(isAllowedNavigation(APP_ENTRY_URL)).toBe(true);
    expect(isAllowedNavigation('app://ehr/index.html#/locked')).toBe(true);
    for (const url of [
      'https://evil.example/',
      'http://127.0.0.1:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'app://ehr@evil.example/',
      'app://ehr.evil/',
      'app://ehr:8080/',
      'app://other/index.html',
      'devtools://devtools/bundled/inspector.html',
      'not a url',
    ]) {
      expect(isAllowedNavigation(url), url).toBe(false);
    }
  });

  it('denies every window.open', () => {
    expect(windowOpenDecision()).toEqual({ action: 'deny' });
  });

  it('lets requests through only to app://ehr (devtools only in a development build)', () => {
    expect(isAllowedRequest('app://ehr/assets/index.js', false)).toBe(true);
    expect(isAllowedRequest('https://cdn.example/x.js', false)).toBe(false);
    expect(isAllowedRequest('http://localhost:5173/', true)).toBe(false);
    expect(isAllowedRequest('file:///etc/hosts', true)).toBe(false);
    expect(isAllowedRequest('devtools://devtools/x', false)).toBe(false);
    expect(isAllowedRequest('devtools://devtools/x', true)).toBe(true);
    expect(isAllowedRequest('data:image/png;base64,AAAA', false)).toBe(true);
    expect(isAllowedRequest('data:text/html,<script>1</script>', false)).toBe(false);
  });

  it('refuses every permission when no video visit is open, whatever it is and whoever asks', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'clipboard-sanitized-write', 'openExternal', 'fullscreen', 'usb', 'serial', 'hid', 'display-capture', 'unknown']) {
      expect(permissionDecision({ permission: p, requestingUrl: 'app://ehr/index.html', mediaTypes: ['audio', 'video'], isMainFrame: true }, false)).toBe(false);
    }
    expect(devicePermissionDecision()).toBe(false);
    expect(allowWebviewAttach()).toBe(false);
  });

  it('during an open visit grants camera and microphone, and writing the link, to our own top frame only', () => {
    const ours = { requestingUrl: 'app://ehr/index.html', isMainFrame: true };
    expect(permissionDecision({ ...ours, permission: 'media', mediaTypes: ['audio', 'video'] }, true)).toBe(true);
    expect(permissionDecision({ ...ours, permission: 'media', mediaTypes: ['video'] }, true)).toBe(true);
    // The check handler gives an origin without a path.
    expect(permissionDecision({ permission: 'media', requestingUrl: 'app://ehr', mediaTypes: ['audio'] }, true)).toBe(true);
    expect(permissionDecision({ ...ours, permission: 'clipboard-sanitized-write' }, true)).toBe(true);
    // Not media of an unknown kind, not an empty request, not from elsewhere or a subframe.
    expect(permissionDecision({ ...ours, permission: 'media', mediaTypes: ['unknown'] }, true)).toBe(false);
    expect(permissionDecision({ ...ours, permission: 'media', mediaTypes: [] }, true)).toBe(false);
    expect(permissionDecision({ ...ours, permission: 'media' }, true)).toBe(false);
    for (const url of ['https://evil.example/', 'app://ehr.evil/', 'app://ehr@evil/', 'file:///x.html', 'app://ehr:8080/', undefined]) {
      expect(permissionDecision({ permission: 'media', mediaTypes: ['video'], requestingUrl: url, isMainFrame: true }, true), String(url)).toBe(false);
    }
    expect(permissionDecision({ ...ours, isMainFrame: false, permission: 'media', mediaTypes: ['video'] }, true)).toBe(false);
    // Nothing else opens up because a visit is running.
    for (const p of ['geolocation', 'notifications', 'clipboard-read', 'display-capture', 'openExternal', 'fullscreen', 'usb', 'hid']) {
      expect(permissionDecision({ ...ours, permission: p, mediaTypes: ['video'] }, true), p).toBe(false);
    }
  });

  it('recognises our origin and nothing that merely looks like it', () => {
    expect(isAppUrl('app://ehr/')).toBe(true);
    expect(isAppUrl('app:/ehr/index.html')).toBe(false);
    expect(isAppUrl('xapp://ehr/')).toBe(false);
  });
});
