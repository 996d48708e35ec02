import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppProtocolHandler, mimeType, resolveAppPath } from '../../src-main/electron/app-protocol';
import { contentSecurityPolicy } from '../../src-main/electron/security';

let base: string;
let root: string;

beforeAll(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'ehr-proto-'));
  root = path.join(base, 'renderer');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>EHR</title>');
  writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(path.join(root, '.env'), 'SECRET=1');
  writeFileSync(path.join(base, 'secret.txt'), 'outside the root');
  // A symlink inside the root that points outside it: must not be followed.
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => createAppProtocolHandler({ rootDir: root })(new Request(url, { method }));

describe('app:// path resolution', () => {
  it('maps our URLs into the renderer root', () => {
    expect(resolveAppPath(root, 'app://ehr/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath(root, 'app://ehr/assets/index-abc.js')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(resolveAppPath(root, 'app://ehr/assets/index-abc.js?v=1#x')).toBe(path.join(root, 'assets', 'index-abc.js'));
  });

  it.each([
    'app://ehr/../secret.txt',
    'app://ehr/%2e%2e/secret.txt',
    'app://ehr/assets/%2e%2e/%2e%2e/secret.txt',
    'app://ehr/assets/..%2f..%2fsecret.txt',
    'app://ehr/..%5c..%5csecret.txt',
    'app://ehr/%2fetc%2fpasswd',
    'app://ehr//etc/passwd',
    'app://ehr/C:/Windows/win.ini',
    'app://ehr/index.html%00.js',
    'app://ehr/%E0%A4%A',
    'app://ehr/.env',
    'app://evil/index.html',
    'app://ehr@evil/index.html',
    'file:///etc/passwd',
  ])('refuses %s', (url) => {
    expect(resolveAppPath(root, url)).toBeNull();
  });
});

describe('app:// handler', () => {
  it('serves index.html with the CSP header and the right type', async () => {
    const r = await get('app://ehr/index.html');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await r.text()).toContain('<title>EHR</title>');
  });

  it('serves module scripts as JavaScript (Chromium refuses modules of any other type)', async () => {
    const r = await get('app://ehr/assets/index-abc.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(mimeType('x.css')).toBe('text/css; charset=utf-8');
  });

  it('answers traversal, symlink escapes, dotfiles and missing files with 404 and no body', async () => {
    for (const url of ['app://ehr/%2e%2e/secret.txt', 'app://ehr/assets/link.txt', 'app://ehr/.env', 'app://ehr/nope.js']) {
      const r = await get(url);
      expect(r.status, url).toBe(404);
      expect(await r.text(), url).toBe('');
      expect(r.headers.get('content-security-policy')).toBe(contentSecurityPolicy());
    }
  });

  it('refuses methods other than GET and HEAD', async () => {
    expect((await get('app://ehr/index.html', 'POST')).status).toBe(405);
    const head = await get('app://ehr/index.html', 'HEAD');
    expect(head.status).toBe(200);
  });
});

import fc from 'fast-check';

describe('app:// resolution property', () => {
  it('never yields a path outside the root, whatever the URL path', () => {
    const segment = fc.oneof(
      fc.constantFrom('..', '.', '%2e%2e', '%2E.', '..%2f', '%5c', 'assets', 'index.html', '', '%00', 'C:', '~'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segs) => {
        const r = resolveAppPath(root, `app://ehr/${segs.join('/')}`);
        return r === null || r === root || r.startsWith(root + path.sep);
      }),
      { numRuns: 2000 },
    );
  });
});
