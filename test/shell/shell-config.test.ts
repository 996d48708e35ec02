import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devUserDataDir, shellConfig } from '../../src-main/electron/shell-config';
import { startAutoUpdate, type AutoUpdaterLike } from '../../src-main/electron/updater';

const facts = {
  mainDir: '/opt/Clinic EHR/resources/app.asar/dist/main/electron',
  resourcesPath: '/opt/Clinic EHR/resources',
  appPath: '/opt/Clinic EHR/resources/app.asar',
  userDataDir: '/home/n/.config/Clinic EHR',
};

describe('shell configuration', () => {
  it('a packaged app: no devtools, no development policy, updates on, native code from app.asar.unpacked', () => {
    const c = shellConfig({ ...facts, isPackaged: true });
    expect(c.devTools).toBe(false);
    expect(c.allowDevPolicy).toBe(false);
    expect(c.autoUpdate).toBe(true);
    expect(c.nativeRoots).toEqual(['/opt/Clinic EHR/resources/app.asar.unpacked']);
    expect(c.rendererRoot).toBe('/opt/Clinic EHR/resources/app.asar/dist/renderer');
    expect(c.preloadPath).toBe(path.join(facts.mainDir, 'preload.cjs'));
    expect(c.vaultDir).toBe('/home/n/.config/Clinic EHR/vault');
  });

  it('a development run: devtools and the development policy, no auto-update, native code from the project', () => {
    const c = shellConfig({ ...facts, isPackaged: false, appPath: '/work/main', mainDir: '/work/main/dist/main/electron' });
    expect(c.devTools).toBe(true);
    expect(c.allowDevPolicy).toBe(true);
    expect(c.autoUpdate).toBe(false);
    expect(c.nativeRoots).toEqual(['/work/main']);
    expect(c.rendererRoot).toBe('/work/main/dist/renderer');
  });

  it('the profile override works in development only, and only with an absolute path', () => {
    expect(devUserDataDir(false, { EHR_DEV_USER_DATA: '/tmp/p' })).toBe('/tmp/p');
    expect(devUserDataDir(true, { EHR_DEV_USER_DATA: '/tmp/p' })).toBeUndefined();
    expect(devUserDataDir(false, { EHR_DEV_USER_DATA: 'rel/p' })).toBeUndefined();
    expect(devUserDataDir(false, {})).toBeUndefined();
  });
});

describe('auto-update', () => {
  function fakeUpdater() {
    const u: AutoUpdaterLike & { checks: number } = {
      autoDownload: false,
      autoInstallOnAppQuit: false,
      allowDowngrade: true,
      allowPrerelease: true,
      checks: 0,
      checkForUpdates: async () => {
        u.checks++;
        return null;
      },
      on: () => u,
    };
    return u;
  }

  it('never downgrades nor takes prereleases, and checks at start', () => {
    const u = fakeUpdater();
    const stop = startAutoUpdate({ enabled: true, updater: () => u });
    stop();
    expect(u).toMatchObject({ allowDowngrade: false, allowPrerelease: false, autoDownload: true, autoInstallOnAppQuit: true });
    expect(u.checks).toBe(1);
  });

  it('is not even loaded when disabled (development builds)', () => {
    let loaded = false;
    startAutoUpdate({ enabled: false, updater: () => ((loaded = true), fakeUpdater()) })();
    expect(loaded).toBe(false);
  });
});
