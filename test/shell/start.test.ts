import { execFileSync, spawn as spawnChild, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PolicySchema } from '../../src-shared/policy';

const root = path.resolve(__dirname, '../..');
const script = path.join(root, 'scripts/start.mjs');
type Status = { ok: true; path: string } | { ok: false; reason: string };
const mod = (await import(pathToFileURL(script).href)) as {
  electronBinaryStatus: (projectRoot?: string, exists?: (f: string) => boolean) => Status;
  missingBinaryMessage: (reason: string) => string;
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ehr-start-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A project whose electron package is in the given state (no download / downloaded). */
function fakeProject(withBinary: boolean): string {
  const dir = mkdtempSync(path.join(tmp, 'p-'));
  const electron = path.join(dir, 'node_modules', 'electron');
  mkdirSync(path.join(electron, 'dist'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{}');
  writeFileSync(path.join(electron, 'package.json'), JSON.stringify({ name: 'electron', main: 'index.js' }));
  // The same shape as electron's own index.js: path.txt is written by its postinstall download.
  writeFileSync(
    path.join(electron, 'index.js'),
    `const fs=require('fs'),p=require('path');const f=p.join(__dirname,'path.txt');
     if(!fs.existsSync(f)) throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');
     module.exports=p.join(__dirname,'dist',fs.readFileSync(f,'utf8'));`,
  );
  if (withBinary) {
    writeFileSync(path.join(electron, 'path.txt'), 'electron');
    writeFileSync(path.join(electron, 'dist', 'electron'), '');
  }
  return dir;
}

describe('npm start without an Electron binary', () => {
  it('finds the binary when the download happened', () => {
    const dir = fakeProject(true);
    expect(mod.electronBinaryStatus(dir)).toEqual({ ok: true, path: path.join(dir, 'node_modules', 'electron', 'dist', 'electron') });
  });

  it('reports a skipped download, and a binary deleted after download', () => {
    const skipped = mod.electronBinaryStatus(fakeProject(false));
    expect(skipped.ok).toBe(false);
    const deleted = mod.electronBinaryStatus(fakeProject(true), () => false);
    expect(deleted.ok).toBe(false);
    if (!deleted.ok) expect(deleted.reason).toContain('missing at');
  });

  it('asked for Electron, exits non-zero with a plain message and the fix, and no stack trace', () => {
    // ELECTRON_OVERRIDE_DIST_PATH is Electron's own variable: pointing it at nothing makes the binary
    // missing here whether or not this machine has one.
    const r = spawnSync(process.execPath, [script, '--electron'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: path.join(tmp, 'no-such-electron') },
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Electron's binary is not installed");
    expect(r.stderr).toContain('ELECTRON_SKIP_BINARY_DOWNLOAD= npm ci');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack frames
    expect(r.stderr).not.toMatch(/Error:/);
    expect(r.stdout).toBe('');
  });

  it('uses the development host without Electron, for --check, or when asked; Electron otherwise', () => {
    const chooseHost = (mod as unknown as { chooseHost: (argv: string[], env: Record<string, string>, e: Status) => string }).chooseHost;
    const have: Status = { ok: true, path: '/x/electron' };
    const missing: Status = { ok: false, reason: 'skipped' };
    expect(chooseHost([], {}, have)).toBe('electron');
    expect(chooseHost([], {}, missing)).toBe('chromium');
    expect(chooseHost(['--check'], {}, have)).toBe('chromium');
    expect(chooseHost([], { EHR_HOST: 'chromium' }, have)).toBe('chromium');
    expect(chooseHost(['--electron'], {}, missing)).toBe('electron');
  });

  it('the message names the cause it was given', () => {
    expect(mod.missingBinaryMessage('because X')).toContain('Why: because X.');
  });
});


describe('npm start: pinning the local sync server', () => {
  const startMod = mod as unknown as {
    waitForServer: (url: string, child: { exitCode: number | null }, timeoutMs?: number) => Promise<string>;
  };

  it('reads the certificate fingerprint the development policy pins, in a form the policy accepts', async () => {
    const key = path.join(tmp, 'key.pem');
    const cert = path.join(tmp, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const fp = await startMod.waitForServer(`https://127.0.0.1:${port}`, { exitCode: null }, 10_000);
      expect(fp).toBe(new X509Certificate(readFileSync(cert)).fingerprint256);
      const policy = PolicySchema.parse({ serverUrl: `https://127.0.0.1:${port}`, serverCertFingerprint: fp });
      expect(policy.serverCertFingerprint).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      server.close();
    }
  });

  it('gives up at once when the server process has exited', async () => {
    const child = spawnChild(process.execPath, ['-e', 'process.exit(3)']);
    await new Promise((r) => child.on('exit', r));
    await expect(startMod.waitForServer('https://127.0.0.1:1', child, 5_000)).rejects.toThrow(/exited \(code 3\)/);
  });
});

describe('npm start: enrolling the development workstation', () => {
  const startMod = mod as unknown as { enrollmentCodeFromServerOutput: (t: string) => string | undefined };
  it("picks the one-time code out of the server's start banner", () => {
    const banner = 'Clinic EHR sync server listening on https://127.0.0.1:8443\nCertificate SHA-256 fingerprint (pin this in the IT policy): AB:CD\nOne-time device enrollment code: K7QX-2M4P-9TZR\n';
    expect(startMod.enrollmentCodeFromServerOutput(banner)).toBe('K7QX-2M4P-9TZR');
    expect(startMod.enrollmentCodeFromServerOutput('listening on https://127.0.0.1:8443\n')).toBeUndefined();
  });
});

describe('npm start: stopping the sync server', () => {
  const startMod = mod as unknown as { stopProcessTree: (c: import('node:child_process').ChildProcess) => void };
  it.skipIf(process.platform === 'win32')('stops the whole process tree, not just npm (the server would outlive it)', async () => {
    // A parent that starts a grandchild and prints its pid, like npm -> tsx -> server.
    const parent = spawnChild(
      process.execPath,
      ['-e', "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);"],
      { detached: true, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const grandchild = await new Promise<number>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(grandchild)).toBe(true);
    startMod.stopProcessTree(parent);
    await expect.poll(() => alive(grandchild), { timeout: 5_000 }).toBe(false);
  });
});
