/**
 * Importing many Bundle files (Synthea writes one per patient, plus hospital and practitioner
 * bundles) and folders of them: files are found first (so progress can say "of how many"), then
 * read, parsed and imported one at a time (memory stays at one bundle). A file that cannot be read
 * or is not a Bundle is reported by its position and the run goes on; nothing names a file, since
 * Synthea's file names carry patients' names.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { LIMITS } from '../../../src-shared/sync/common';
import { vouchValidated } from '../vault/fhir-validate';
import { startValidationWorker } from '../vault/fhir-validate-worker';
import { importBundle, type ImportOptions, type ImportReport } from './fhir-import';
import type { SyncEngine, SyncStatus } from './index';

/** Mutations per push while importing: the server's maximum (LIMITS.pushBatch), fewer round trips than a clinician's default. */
export const IMPORT_PUSH_BATCH = LIMITS.pushBatch;

export interface FileProblem {
  /** 1-based position of the file in the run (arguments in order, folders expanded in name order). */
  file: number;
  /** 1-based position of the command-line argument it came from. */
  argument: number;
  reason: 'not-found' | 'unreadable' | 'not-json' | 'not-a-bundle' | 'bundle-type';
  message: string;
}

export interface FileReport extends ImportReport {
  file: number;
  argument: number;
}

export interface ImportRunReport {
  files: number;
  bundles: FileReport[];
  fileProblems: FileProblem[];
  totals: { entries: number; imported: number; unchanged: number; directory: number; invalid: number; skipped: number; queued: number; patients: number; rolledBack: number };
  /** Bundle types found, with how many of each. */
  bundleTypes: Record<string, number>;
}

export interface ImportProgress {
  filesDone: number;
  files: number;
  entriesDone: number;
}

/** Expands arguments (files or folders, folders recursively, `.json` files only) in a stable order. */
export function findBundleFiles(args: readonly string[]): { files: { path: string; argument: number }[]; problems: FileProblem[] } {
  const files: { path: string; argument: number }[] = [];
  const problems: FileProblem[] = [];
  args.forEach((arg, i) => {
    const argument = i + 1;
    let st;
    try {
      st = statSync(arg);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      problems.push({ file: 0, argument, reason: missing ? 'not-found' : 'unreadable', message: missing ? 'file not found' : 'the file cannot be read' });
      return;
    }
    if (!st.isDirectory()) {
      files.push({ path: arg, argument });
      return;
    }
    const walk = (dir: string): void => {
      for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, d.name);
        if (d.isDirectory()) walk(p);
        else if (d.isFile() && d.name.toLowerCase().endsWith('.json')) files.push({ path: p, argument });
      }
    };
    walk(arg);
  });
  return { files, problems };
}

type FileRead = { text: string } | { reason: FileProblem['reason']; message: string };

function readText(path: string): FileRead {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return missing ? { reason: 'not-found', message: 'file not found' } : { reason: 'unreadable', message: 'the file cannot be read' };
  }
}

function parseBundleText(read: FileRead): { bundle: unknown } | { reason: FileProblem['reason']; message: string } {
  if (!('text' in read)) return read;
  try {
    return { bundle: JSON.parse(read.text) };
  } catch {
    return { reason: 'not-json', message: 'the file is not JSON' };
  }
}

/** Marks the entries the validation worker found valid (same text, same entry order). */
function applyVerdicts(bundle: unknown, verdicts: readonly boolean[]): void {
  const entries = (bundle as { entry?: unknown } | null)?.entry;
  if (!Array.isArray(entries) || entries.length !== verdicts.length) return;
  entries.forEach((e: { resource?: unknown } | null, i) => {
    if (verdicts[i] && e && typeof e.resource === 'object' && e.resource !== null) vouchValidated(e.resource);
  });
}

/** The run's bookkeeping: one file's import folded into the totals. */
function importOne(
  run: ImportRunReport, patients: Set<string>, f: { path: string; argument: number }, file: number, opts: ImportOptions,
  pre?: { read: FileRead; verdicts: readonly boolean[] },
): number {
  const read = parseBundleText(pre?.read ?? readText(f.path));
  if ('reason' in read) {
    run.fileProblems.push({ file, argument: f.argument, reason: read.reason, message: read.message });
    return 0;
  }
  if (pre) applyVerdicts(read.bundle, pre.verdicts);
  try {
    const report = importBundle(read.bundle, opts);
    run.bundles.push({ file, argument: f.argument, ...report });
    run.bundleTypes[report.bundleType] = (run.bundleTypes[report.bundleType] ?? 0) + 1;
    const t = run.totals;
    t.entries += report.entries;
    t.imported += report.imported;
    t.unchanged += report.unchanged;
    t.directory += report.directory;
    t.invalid += report.invalid.length;
    t.skipped += report.skipped.length;
    t.queued += report.queued;
    if (report.rolledBack) t.rolledBack++;
    for (const p of report.patients) patients.add(p);
    return report.entries;
  } catch (e) {
    if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
    run.fileProblems.push({ file, argument: f.argument, reason: e.detail?.type !== undefined ? 'bundle-type' : 'not-a-bundle', message: e.message });
    return 0;
  }
}

function newRun(files: number, problems: FileProblem[]): ImportRunReport {
  return {
    files, bundles: [], fileProblems: problems, bundleTypes: {},
    totals: { entries: 0, imported: 0, unchanged: 0, directory: 0, invalid: 0, skipped: 0, queued: 0, patients: 0, rolledBack: 0 },
  };
}

function finishRun(run: ImportRunReport, patients: Set<string>): ImportRunReport {
  run.totals.patients = patients.size;
  run.fileProblems.sort((a, b) => a.file - b.file || a.argument - b.argument);
  return run;
}

/** Imports every file in turn (one vault transaction per bundle). Throws only for what is not the data's fault (vault, keychain). */
export function importFiles(args: readonly string[], opts: ImportOptions, onProgress?: (p: ImportProgress) => void): ImportRunReport {
  const { files, problems } = findBundleFiles(args);
  const run = newRun(files.length, problems);
  const patients = new Set<string>();
  let entriesDone = 0;
  files.forEach((f, i) => {
    entriesDone += importOne(run, patients, f, i + 1, opts);
    onProgress?.({ filesDone: i + 1, files: files.length, entriesDone });
  });
  return finishRun(run, patients);
}

/**
 * importFiles with the push running beside it: after each file the event loop is let go, so the
 * sync engine's cycle (started after the first file, restarted whenever it finishes while files
 * remain) seals and pushes what is queued while the server stores it and this process imports the
 * next file; meanwhile the file after it is validated on a worker thread (fhir-validate-worker.ts).
 * Order and exactly-once are the outbox's as always.
 * Ends with one full cycle after the last file; returns its status.
 */
export async function importAndSync(
  args: readonly string[],
  opts: ImportOptions,
  engine: Pick<SyncEngine, 'syncNow'>,
  onProgress?: (p: ImportProgress) => void,
  /** validationWorker: false validates on the main thread only (the benchmark's baseline). */
  tuning: { validationWorker?: boolean } = {},
): Promise<{ run: ImportRunReport; status: SyncStatus }> {
  const { files, problems } = findBundleFiles(args);
  const run = newRun(files.length, problems);
  const patients = new Set<string>();
  let entriesDone = 0;
  let cycle: Promise<unknown> | null = null;
  // The next file is read and handed to the validation worker while this one is written.
  const validator = tuning.validationWorker === false ? null : startValidationWorker();
  const ask = (i: number) => {
    const read = readText(files[i]!.path);
    return { read, verdicts: validator && 'text' in read ? validator.validateBundleText(read.text) : Promise.resolve([]) };
  };
  try {
    let next = files.length ? ask(0) : null;
    for (let i = 0; i < files.length; i++) {
      const current = next!;
      next = i + 1 < files.length ? ask(i + 1) : null;
      entriesDone += importOne(run, patients, files[i]!, i + 1, opts, { read: current.read, verdicts: await current.verdicts });
      onProgress?.({ filesDone: i + 1, files: files.length, entriesDone });
      cycle ??= engine.syncNow().finally(() => {
        cycle = null;
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await validator?.close();
  }
  await cycle;
  const status = await engine.syncNow();
  return { run: finishRun(run, patients), status };
}
