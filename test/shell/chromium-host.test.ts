/**
 * The development host's pure pieces (src-main/chromium-host): the routed renderer origin maps only
 * its own URLs onto the shell's app:// handler, each data folder has its own keychain entries, and
 * the errors of opening a workstation become one PHI-free line that says what to do.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFolder } from '../../src-main/chromium-host/data-folder';
import { describeOpenError, HostError } from '../../src-main/chromium-host/host-error';
import { DEV_HOST_ENTRY_URL, toAppUrl } from '../../src-main/chromium-host/renderer-origin';
import { chromiumArgs } from '../../src-main/chromium-host/app-window';
import { hasDisplay } from '../../src-main/chromium-host/xvfb';
import { KeychainUnavailableError, VaultKeyMissingError } from '../../src-main/core/keychain';
import { VaultInUseError } from '../../src-main/core/vault/errors';
import { resolveAppPath } from '../../src-main/electron/app-protocol';

describe('the development host', () => {
  it("maps its own origin onto the shell's app:// handler, and nothing else", () => {
    expect(toAppUrl(DEV_HOST_ENTRY_URL)).toBe('app://ehr/index.html');
    expect(toAppUrl('https://ehr.invalid/assets/index-abc.js?x=1')).toBe('app://ehr/assets/index-abc.js?x=1');
    for (const other of ['https://ehr.invalid.evil.example/', 'https://ehr.invalid@evil.example/', 'http://ehr.invalid/', 'https://example.org/', 'data:text/html,x', 'https://ehr.invalid']) {
      expect(toAppUrl(other), other).toBeNull();
    }
    // The shell's path checks then apply unchanged: a climb out of the build is refused.
    expect(resolveAppPath('/srv/renderer', toAppUrl('https://ehr.invalid/%2e%2e/secret')!)).toBeNull();
  });

  it('gives each data folder its own keychain service, stable across starts', () => {
    const a = dataFolder('/tmp/a');
    expect(a.keychainService).toBe(dataFolder('/tmp/a/').keychainService);
    expect(a.keychainService).not.toBe(dataFolder('/tmp/b').keychainService);
    expect(a.vaultDir).toBe(path.join('/tmp/a', 'workstation'));
  });

  it('says in one line what to do when the workstation cannot open', () => {
    const lines = [
      describeOpenError(new KeychainUnavailableError('get'), '/d/workstation'),
      describeOpenError(new VaultKeyMissingError(), '/d/workstation'),
      describeOpenError(new VaultInUseError(), '/d/workstation'),
      describeOpenError(new HostError('no Chromium at /x'), '/d/workstation'),
      describeOpenError(new Error('SQLITE_CORRUPT at /home/nurse/canary-Smith'), '/d/workstation'),
    ];
    expect(lines[0]).toMatch(/^no keychain: /);
    expect(lines[1]).toMatch(/belongs to another workstation/);
    expect(lines[2]).toMatch(/open in another process/);
    expect(lines[3]).toBe('no Chromium at /x');
    // An unexpected error's own text (paths, names) is never echoed.
    expect(lines[4]).not.toContain('canary');
    for (const l of lines) expect(l).not.toContain('\n');
  });

  it('runs Chromium without its background calls, and unsandboxed only as root', () => {
    expect(chromiumArgs(false)).not.toContain('--no-sandbox');
    expect(chromiumArgs(true)).toContain('--no-sandbox');
    expect(chromiumArgs(false)).toContain('--disable-background-networking');
  });

  it('knows when there is a display to show a window on', () => {
    expect(hasDisplay({})).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' })).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
  });
});
