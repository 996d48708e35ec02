/** Shared helpers for the vault tests: temp dirs, unique keychain services, canary data, child processes. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PatientInput } from '../../src-main/core/vault';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const childScript = join(repoRoot, 'test', 'vault', 'fixtures', 'vault-child.ts');

export const CANARY = {
  given: 'Zebediah',
  family: 'Canarywhistle',
  mrn: 'CANARY-MRN-0042',
  birthDate: '1931-02-28',
} as const;

export function canaryPatient(id = 'pat-canary'): PatientInput {
  return { id, mrn: CANARY.mrn, givenNames: CANARY.given, familyName: CANARY.family, birthDate: CANARY.birthDate, gender: 'male' };
}

export function tempDir(prefix = 'ehr-vault-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A keychain service name of its own per test, so tests never see each other's keys. */
export function uniqueService(): string {
  return `clinic-ehr-test-${randomUUID()}`;
}

/** True when any file in `dir` contains one of the canary strings in the clear. */
export function dirContainsPlaintext(dir: string, needles: readonly string[] = [CANARY.family, CANARY.mrn, CANARY.given]): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, name));
    for (const n of needles) if (bytes.includes(Buffer.from(n, 'utf8'))) hits.push(`${name}:${n}`);
  }
  return hits;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  /** RLIMIT_FSIZE in 512-byte blocks (`ulimit -f`). */
  fileSizeLimitBlocks?: number;
  /** Called for each JSON line as it arrives (e.g. to kill the child at the right moment). */
  onLine?: (line: Record<string, unknown>, child: ChildProcess) => void;
}

/** Runs test/vault/fixtures/vault-child.ts in a fresh Node process (tsx loader). */
export function runVaultChild(args: string[], opts: ChildOptions = {}): Promise<ChildResult> {
  const nodeArgs = ['--import', 'tsx', childScript, ...args];
  const [cmd, argv] = opts.fileSizeLimitBlocks
    ? ['bash', ['-c', `ulimit -f ${opts.fileSizeLimitBlocks}; exec "${process.execPath}" "$@"`, 'bash', ...nodeArgs]]
    : [process.execPath, nodeArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], {
      cwd: repoRoot,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          opts.onLine?.(line, child);
        } catch {
          /* not ours */
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr }));
  });
}

/** Starts a child and resolves once it printed its first line, leaving it running. */
export function startVaultChild(args: string[], opts: ChildOptions = {}): Promise<{ first: Record<string, unknown>; child: ChildProcess; done: Promise<ChildResult> }> {
  return new Promise((resolve, reject) => {
    let resolved = false;
    const done = runVaultChild(args, {
      ...opts,
      onLine: (line, child) => {
        if (!resolved) {
          resolved = true;
          resolve({ first: line, child, done });
        }
        opts.onLine?.(line, child);
      },
    });
    done.then((r) => { if (!resolved) reject(new Error(`child exited before reporting: ${r.stderr.slice(0, 500)}`)); }, reject);
  });
}

/**
 * scripts/keyring-session.sh unlocks the test keyring at start, but on this machine the daemon that
 * ends up serving the private bus sometimes has no unlocked login collection (keytar: "Cannot create
 * an item in a locked collection" / "Object does not exist at path …/collection/login"), seemingly
 * when several keyring sessions start at once. Probe in a fresh process and, only if that fails,
 * replace the daemon on OUR private bus with one unlocked by the session's password.
 * It must run before this process first touches keytar: libsecret keeps its session with the
 * daemon it first met, so a process that met the broken daemon cannot recover in place.
 * Outside such a session (or once it worked in this process) it does nothing.
 */
let keyringVerified = false;

function keyringWorksInFreshProcess(): boolean {
  const probe = `const k = require('keytar');
    k.setPassword('clinic-ehr-test-probe', 'probe', '1').then(() => k.deletePassword('clinic-ehr-test-probe', 'probe'))
      .then(() => process.exit(0), () => process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: repoRoot, stdio: 'ignore', timeout: 15_000 }).status === 0;
}

export async function unlockTestKeyring(): Promise<void> {
  if (process.env.EHR_KEYRING_READY !== '1' || keyringVerified) return;
  for (let attempt = 0; attempt < 3 && !keyringWorksInFreshProcess(); attempt++) {
    spawnSync('gnome-keyring-daemon', ['--replace', '--unlock', '--components=secrets'], {
      input: process.env.EHR_KEYRING_PASSWORD ?? 'ehr-test-keyring',
      stdio: ['pipe', 'ignore', 'ignore'],
      timeout: 10_000,
    });
    await new Promise((r) => setTimeout(r, 300));
  }
  keyringVerified = true;
}
