import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3-multiple-ciphers';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { chooseNativeBinding, nativeDirName, planElectronBuild } from '../../src-main/core/native';

const roots = ['/opt/app/resources/app.asar.unpacked', '/work/main'];

describe('native binary chooser', () => {
  it('picks the Electron build for Electron, by ABI, platform and arch', () => {
    const want = '/opt/app/resources/app.asar.unpacked/native/electron-140-linux-x64/better_sqlite3.node';
    const c = chooseNativeBinding({ versions: { modules: '140', electron: '39.8.10' }, platform: 'linux', arch: 'x64' }, roots, (f) => f === want);
    expect(c).toMatchObject({ runtime: 'electron', abi: '140', path: want });
  });

  it('prefers the first root that has it (packaged resources before the project)', () => {
    const c = chooseNativeBinding({ versions: { modules: '140', electron: '39.8.10' }, platform: 'win32', arch: 'arm64' }, roots, () => true);
    expect(c.path).toBe(path.join(roots[0]!, 'native', 'electron-140-win32-arm64', 'better_sqlite3.node'));
  });

  it('never hands Electron a Node build: a missing Electron binary is a clear VAULT_UNAVAILABLE', () => {
    let err: unknown;
    try {
      chooseNativeBinding({ versions: { modules: '140', electron: '39.8.10' }, platform: 'linux', arch: 'x64' }, roots, (f) => f.includes('node-140'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EhrError);
    expect((err as EhrError).code).toBe(ErrorCode.VAULT_UNAVAILABLE);
    expect((err as EhrError).message).toContain('build-main.mjs --native');
  });

  it('Node uses a native/node-<abi> build when present, else the package\'s own build', () => {
    const rt = { versions: { modules: '115' }, platform: 'linux' as const, arch: 'x64' };
    const own = chooseNativeBinding(rt, roots, () => false);
    expect(own).toMatchObject({ runtime: 'node', path: undefined });
    expect(own.searched[1]).toBe('/work/main/native/node-115-linux-x64/better_sqlite3.node');
    const built = chooseNativeBinding(rt, roots, (f) => f === own.searched[1]);
    expect(built.path).toBe(own.searched[1]);
  });

  it('this test process (Node) gets a binding that really opens an encrypted database', () => {
    const c = chooseNativeBinding({ versions: process.versions, platform: process.platform, arch: process.arch }, [process.cwd()], () => false);
    expect(c.runtime).toBe('node');
    expect(c.abi).toBe(process.versions.modules);
    const db = new Database(':memory:', c.path ? { nativeBinding: c.path } : {});
    try {
      expect((db.prepare('select 1 + 1 as v').get() as { v: number }).v).toBe(2);
    } finally {
      db.close();
    }
  });
});

describe('Electron build plan', () => {
  const plan = planElectronBuild({ projectDir: '/p', electronVersion: '39.8.10', electronAbi: '140', platform: 'linux', arch: 'x64' });

  it('builds in a scratch copy, never in node_modules (the Node build stays for npm test)', () => {
    expect(plan.workDir.startsWith('/p/native/.build/')).toBe(true);
    expect(plan.command.cwd).toBe(plan.workDir);
    expect(plan.copy).not.toContain('build');
    expect(plan.outFile).toBe(`/p/native/${nativeDirName('electron', '140', 'linux', 'x64')}/better_sqlite3.node`);
  });

  it('targets Electron\'s headers and version through npm\'s node-gyp settings', () => {
    expect(plan.command.env).toMatchObject({
      npm_config_runtime: 'electron',
      npm_config_target: '39.8.10',
      npm_config_disturl: 'https://electronjs.org/headers',
      npm_config_arch: 'x64',
      npm_config_build_from_source: 'true',
    });
  });

  it('refuses nonsense versions instead of building something unloadable', () => {
    expect(() => planElectronBuild({ projectDir: '/p', electronVersion: 'latest', electronAbi: '140', platform: 'linux', arch: 'x64' })).toThrow();
    expect(() => planElectronBuild({ projectDir: '/p', electronVersion: '39.0.0', electronAbi: '../x', platform: 'linux', arch: 'x64' })).toThrow();
  });
});
