import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const out = mkdtempSync(path.join(os.tmpdir(), 'ehr-build-main-'));
let status: number | null = null;
let stderr = '';

beforeAll(() => {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-main.mjs'), `--outdir=${out}`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  status = r.status;
  stderr = r.stderr;
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const requires = (file: string) => [...readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);

describe('scripts/build-main.mjs', () => {
  it('bundles main and preload to CommonJS without warnings', () => {
    expect(status, stderr).toBe(0);
    expect(stderr).not.toMatch(/WARNING|ERROR/);
  });

  it('the sandboxed preload requires nothing but electron (a sandboxed preload cannot load modules)', () => {
    expect(new Set(requires(path.join(out, 'preload.cjs')))).toEqual(new Set(['electron']));
  });

  it('main requires only Node built-ins, electron and the native/lazy externals packaged beside it', () => {
    const allowed = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'electron', 'better-sqlite3-multiple-ciphers', 'keytar', '@node-rs/argon2', 'electron-updater']);
    const unexpected = requires(path.join(out, 'main.cjs')).filter((m) => !allowed.has(m));
    expect(unexpected).toEqual([]);
  });

  it("never starts Electron's crash reporter: a minidump of the renderer's memory would hold patient data", () => {
    expect(readFileSync(path.join(out, 'main.cjs'), 'utf8')).not.toMatch(/crashReporter/);
  });
});
