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
import { importBundle, type ImportOptions, type ImportReport } from './fhir-import';

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

function readBundle(path: string): { bundle: unknown } | { reason: FileProblem['reason']; message: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return missing ? { reason: 'not-found', message: 'file not found' } : { reason: 'unreadable', message: 'the file cannot be read' };
  }
  try {
    return { bundle: JSON.parse(text) };
  } catch {
    return { reason: 'not-json', message: 'the file is not JSON' };
  }
}

/** Imports every file in turn (one vault transaction per bundle). Throws only for what is not the data's fault (vault, keychain). */
export function importFiles(
  args: readonly string[],
  opts: ImportOptions,
  onProgress?: (p: ImportProgress) => void,
): ImportRunReport {
  const { files, problems } = findBundleFiles(args);
  const run: ImportRunReport = {
    files: files.length, bundles: [], fileProblems: problems, bundleTypes: {},
    totals: { entries: 0, imported: 0, unchanged: 0, directory: 0, invalid: 0, skipped: 0, queued: 0, patients: 0, rolledBack: 0 },
  };
  const patients = new Set<string>();
  let entriesDone = 0;
  files.forEach((f, i) => {
    const file = i + 1;
    const read = readBundle(f.path);
    if ('reason' in read) {
      run.fileProblems.push({ file, argument: f.argument, reason: read.reason, message: read.message });
    } else {
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
        entriesDone += report.entries;
      } catch (e) {
        if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
        run.fileProblems.push({ file, argument: f.argument, reason: e.detail?.type !== undefined ? 'bundle-type' : 'not-a-bundle', message: e.message });
      }
    }
    onProgress?.({ filesDone: file, files: files.length, entriesDone });
  });
  run.totals.patients = patients.size;
  run.fileProblems.sort((a, b) => a.file - b.file || a.argument - b.argument);
  return run;
}
