import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3-multiple-ciphers';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { chooseNativeBinding, nativeDirName, planElectronBuild } from '../../src-main/core/native';
import { checkElectronBuild, nodeGypCandidates } from '../../src-main/core/native/electron-build-plan';

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
  const input = {
    projectDir: '/p',
    electronVersion: '39.8.10',
    electronAbi: '140',
    platform: 'linux' as const,
    arch: 'x64',
    nodeGyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    nodeExecPath: '/usr/bin/node',
  };
  const plan = planElectronBuild(input);

  it('builds in a scratch copy, never in node_modules (the Node build stays for npm test)', () => {
    expect(plan.workDir.startsWith('/p/native/.build/')).toBe(true);
    expect(plan.command.cwd).toBe(plan.workDir);
    expect(plan.copy).not.toContain('build');
    expect(plan.outFile).toBe(`/p/native/${nativeDirName('electron', '140', 'linux', 'x64')}/better_sqlite3.node`);
  });

  it("passes Electron's runtime, version and headers to node-gyp as arguments (npm 11 drops npm_config_* for scripts)", () => {
    expect(plan.command.file).toBe('/usr/bin/node');
    expect(plan.command.args).toEqual([
      input.nodeGyp,
      'rebuild',
      '--release',
      '--runtime=electron',
      '--target=39.8.10',
      '--dist-url=https://electronjs.org/headers',
      '--arch=x64',
    ]);
  });

  it('refuses nonsense versions instead of building something unloadable', () => {
    expect(() => planElectronBuild({ ...input, electronVersion: 'latest' })).toThrow();
    expect(() => planElectronBuild({ ...input, electronAbi: '../x' })).toThrow();
  });

  it("finds npm's bundled node-gyp on Unix and Windows layouts", () => {
    expect(nodeGypCandidates('/usr/bin/node', 'linux')).toEqual(['/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js']);
    expect(nodeGypCandidates('/opt/node/bin/node', 'darwin', '/opt/node/lib/node_modules/npm/bin/npm-cli.js')[0]).toBe(
      '/opt/node/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    );
    expect(nodeGypCandidates('C:/node/node.exe', 'win32').at(-1)).toBe(path.join('C:/node', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  });

  it('keeps a build only if Node refuses it for the Electron ABI', () => {
    expect(checkElectronBuild(null, '140').ok).toBe(false);
    expect(checkElectronBuild('was compiled against a different Node.js version using NODE_MODULE_VERSION 140. This version of Node.js requires NODE_MODULE_VERSION 115.', '140').ok).toBe(true);
    expect(checkElectronBuild('NODE_MODULE_VERSION 1400', '140').ok).toBe(false);
    expect(checkElectronBuild('ENOENT', '140').ok).toBe(false);
  });

  it('the package build in node_modules is Node\'s: the check tells it apart from an Electron build', () => {
    const r = spawnSync(process.execPath, ['-e', "require('better-sqlite3-multiple-ciphers/build/Release/better_sqlite3.node')"], { cwd: process.cwd(), encoding: 'utf8' });
    const loadError = r.status === 0 ? null : r.stderr;
    expect(checkElectronBuild(loadError, '140')).toEqual({ ok: false, reason: expect.stringContaining('built for Node') });
  });
});
