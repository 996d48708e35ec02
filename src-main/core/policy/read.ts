/**
 * Reads the raw machine-wide policy from the platform's managed place. Plain Node with every OS
 * call injected (exec, readFile, stat), so each platform's path is tested on any platform.
 * Returns null when no policy is installed; validation is resolve.ts's job.
 */
import { execFile } from 'node:child_process';
import { readFile as fsReadFile, stat as fsStat } from 'node:fs/promises';
import path from 'node:path';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { DEV_POLICY_ENV, POLICY_LOCATIONS, policyLocation } from './locations';
import { coerceRegistryBooleans, parseRegQuery } from './windows-registry';

export interface ExecResult {
  code: number;
  stdout: string;
}

export interface PolicyReaderDeps {
  platform: NodeJS.Platform;
  /** Runs a program without a shell (execFile); resolves with its exit code, never rejects on exit != 0. */
  exec?: (file: string, args: string[]) => Promise<ExecResult>;
  readFile?: (file: string) => Promise<string>;
  stat?: (file: string) => Promise<{ uid: number; mode: number }>;
  env?: Record<string, string | undefined>;
  /** True only in an unpackaged development build: lets EHR_DEV_POLICY_FILE name the policy. */
  allowDevOverride?: boolean;
}

export interface RawPolicy {
  /** Where it came from, for messages (a registry key or a file path; never user data). */
  source: string;
  values: unknown;
}

function nodeExec(file: string, args: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', windowsHide: true, timeout: 10_000 }, (err, stdout) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        reject(err); // the program itself could not be started
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout });
    });
  });
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function invalid(source: string, problem: string): EhrError {
  return new EhrError(
    ErrorCode.INVALID,
    `The IT policy at ${source} ${problem}. The app cannot start until IT corrects it (see docs/it-admin.md).`,
  );
}

async function readJsonFile(file: string, deps: Required<Pick<PolicyReaderDeps, 'readFile'>>): Promise<RawPolicy | null> {
  let text: string;
  try {
    text = await deps.readFile(file);
  } catch (e) {
    if (isMissing(e)) return null;
    throw invalid(file, 'cannot be read (check its permissions)');
  }
  try {
    return { source: file, values: JSON.parse(text) as unknown };
  } catch {
    throw invalid(file, 'is not valid JSON');
  }
}

/**
 * A configuration profile's own keys (PayloadUUID, PayloadType, ...) can travel into the managed
 * preferences; they are the MDM's bookkeeping, not policy, so they are dropped before validation
 * (which refuses unknown keys).
 */
function withoutProfileBookkeeping(values: unknown): unknown {
  if (!values || typeof values !== 'object' || Array.isArray(values)) return values;
  return Object.fromEntries(Object.entries(values as Record<string, unknown>).filter(([k]) => !k.startsWith('Payload')));
}

export async function readMachinePolicy(deps: PolicyReaderDeps): Promise<RawPolicy | null> {
  const rawExec = deps.exec ?? nodeExec;
  // A tool that cannot even be started (reg.exe or plutil missing or blocked) is a policy we cannot
  // read: say so by location, not with the spawn error (which names local paths).
  const exec = (file: string, args: string[], source: string) =>
    rawExec(file, args).catch(() => {
      throw invalid(source, `cannot be read (${path.basename(file)} could not be run)`);
    });
  const readFile = deps.readFile ?? ((f: string) => fsReadFile(f, 'utf8'));
  const stat = deps.stat ?? ((f: string) => fsStat(f));
  const env = deps.env ?? process.env;

  const devFile = env[DEV_POLICY_ENV];
  if (devFile && deps.allowDevOverride) return readJsonFile(devFile, { readFile });

  if (deps.platform === 'win32') {
    const key = POLICY_LOCATIONS.win32;
    const r = await exec('reg', ['query', key], key);
    // reg exits 1 when the key does not exist: no policy installed.
    if (r.code !== 0) return null;
    return { source: key, values: coerceRegistryBooleans(parseRegQuery(r.stdout)) };
  }

  if (deps.platform === 'darwin') {
    const file = POLICY_LOCATIONS.darwin;
    try {
      await stat(file);
    } catch (e) {
      if (isMissing(e)) return null;
      throw invalid(file, 'cannot be read');
    }
    // Managed preferences are usually binary plists: plutil (part of macOS) converts them to JSON.
    const r = await exec('/usr/bin/plutil', ['-convert', 'json', '-o', '-', file], file);
    if (r.code !== 0) throw invalid(file, 'is not a readable property list');
    let values: unknown;
    try {
      values = JSON.parse(r.stdout) as unknown;
    } catch {
      throw invalid(file, 'is not a readable property list');
    }
    return { source: file, values: withoutProfileBookkeeping(values) };
  }

  const file = policyLocation(deps.platform);
  let st: { uid: number; mode: number };
  try {
    st = await stat(file);
  } catch (e) {
    if (isMissing(e)) return null;
    throw invalid(file, 'cannot be read (check its permissions)');
  }
  // A policy a non-root user could write is no policy at all: refuse it rather than trust it.
  if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw invalid(file, 'must be owned by root and writable only by root (chown root:root; chmod 644)');
  }
  return readJsonFile(file, { readFile });
}
