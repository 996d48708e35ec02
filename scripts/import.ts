/**
 * FHIR import: `npm run --silent import -- <bundle.json | folder>... [options]`
 *
 * Imports FHIR R4 transaction, batch or collection Bundles (e.g. a Synthea output folder: one
 * bundle per patient) into this workstation's vault and syncs them, through the same vault +
 * envelope + outbox path as any clinical write (src-main/core/sync/fhir-import.ts). A transaction
 * is all or nothing; a batch is imported entry by entry. Invalid entries are reported by file
 * position, entry index and FHIRPath, never with their values (nor file names: Synthea's carry
 * patients' names).
 *
 * Options:
 *   --vault <dir>             the workstation vault (or EHR_VAULT_DIR)
 *   --policy <policy.json>    IT policy file giving serverUrl + serverCertFingerprint, or:
 *   --server <https url> --fingerprint <sha256 hex>
 *   --user <username>         (or EHR_IMPORT_USER); the password is read from EHR_IMPORT_PASSWORD only,
 *                             never from the command line (it would show in `ps`)
 *   --enroll-code <code>      enroll this vault's device first (one-time code from an admin)
 *   --keychain-service <name> OS keychain service holding the vault key (default clinic-ehr)
 *   --on-duplicate-mrn merge|refuse
 *                             a Patient whose MRN is already here under another id: import into
 *                             that chart (merge, the default) or leave that patient out (refuse)
 *   --report <file>           write the JSON report there (ids, indexes, paths and counts only)
 *   --dry-run                 validate and report only: opens no vault, touches no keychain, sends nothing
 *
 * Output: a human summary on stderr (and a progress bar when stderr is a terminal); stdout stays
 * empty, so npm's banner never mixes with the report. Exit code: 0 = everything imported (or
 * already there, unchanged) and synced; 2 = some entries or files were refused, or some records
 * are not synced yet; 1 = nothing was imported, or the import failed (the reason is on stderr).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePolicy } from '../src-shared/policy';
import { EhrError } from '../src-shared/errors';
import { createKeytarKeyStore } from '../src-main/core/keychain';
import { openVault } from '../src-main/core/vault';
import { createServerClient } from '../src-main/core/sync/server-client';
import { createSyncEngine } from '../src-main/core/sync';
import { IMPORT_PUSH_BATCH, findBundleFiles, importAndSync, importFiles, type ImportProgress, type ImportRunReport } from '../src-main/core/sync/import-files';

const ENROLLED = 'sync.device.enrolledAt';

function fail(message: string): never {
  process.stderr.write(`import: ${message}\n`);
  process.exit(1);
}

/** A one-line progress bar on stderr, only on a terminal (CI logs and pipes get the summary alone). */
function progressBar(): { update(p: ImportProgress): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && p.filesDone < p.files) return;
      last = now;
      const width = 30;
      const filled = p.files ? Math.round((p.filesDone / p.files) * width) : width;
      const rate = p.entriesDone / Math.max(0.001, (now - started) / 1000);
      process.stderr.write(`\rimport [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.filesDone}/${p.files} files, ${p.entriesDone} entries, ${Math.round(rate)}/s `);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

function summary(run: ImportRunReport, dryRun: boolean): string {
  const t = run.totals;
  const types = Object.entries(run.bundleTypes).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  const lines = [
    `import: ${run.files} file(s); bundle types found: ${types}`,
    `import: ${t.entries} entries: ${t.imported} ${dryRun ? 'valid' : 'imported'}, ${t.unchanged} unchanged, ${t.directory} directory (practitioners, organisations, locations), ${t.invalid} invalid, ${t.skipped} skipped; ${t.patients} patient(s)`,
  ];
  if (t.rolledBack) lines.push(`import: ${t.rolledBack} transaction bundle(s) had invalid entries and were not imported at all (see the report)`);
  const identity = run.bundles.flatMap((b) => b.identity.map((m) => ({ file: b.file, ...m })));
  for (const m of identity) lines.push(`import: file ${m.file}: patient ${m.bundleId} has the MRN of chart ${m.existingId}: ${m.action === 'merged' ? 'imported into that chart' : 'refused (--on-duplicate-mrn refuse)'}`);
  for (const p of run.fileProblems) lines.push(`import: ${p.file ? `file ${p.file} (argument ${p.argument})` : `argument ${p.argument}`}: ${p.message}`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      vault: { type: 'string' }, policy: { type: 'string' }, server: { type: 'string' }, fingerprint: { type: 'string' },
      user: { type: 'string' }, 'enroll-code': { type: 'string' }, 'keychain-service': { type: 'string' }, 'dry-run': { type: 'boolean' },
      report: { type: 'string' }, 'on-duplicate-mrn': { type: 'string' },
    },
  });
  if (positionals.length === 0) fail('usage: npm run --silent import -- <bundle.json | folder>... --vault <dir> --server <url> --fingerprint <hex> --user <name> [--report <file>]');
  const onDuplicateMrn = values['on-duplicate-mrn'] ?? 'merge';
  if (onDuplicateMrn !== 'merge' && onDuplicateMrn !== 'refuse') fail('--on-duplicate-mrn must be merge or refuse');
  const dryRun = values['dry-run'] === true;
  const writeReport = (report: unknown): void => {
    if (values.report) writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o600 });
  };
  const found = findBundleFiles(positionals);
  if (found.files.length === 0) {
    writeReport({ files: 0, fileProblems: found.problems });
    fail(found.problems.length ? `nothing to import: ${found.problems.map((p) => `argument ${p.argument}: ${p.message}`).join('; ')}` : 'nothing to import: no .json files were found');
  }

  const bar = progressBar();
  if (dryRun) {
    // No vault, no keychain, no server: shape and FHIR validation only.
    const run = importFiles(positionals, { vault: null, keys: null, userId: 'dry-run', dryRun: true, onDuplicateMrn }, (p) => bar.update(p));
    bar.done();
    writeReport({ ...run, dryRun: true });
    process.stderr.write(summary(run, true));
    process.stderr.write('import: dry run: nothing was written (identities and unchanged records are checked only by a real import)\n');
    if (run.totals.imported + run.totals.directory === 0) fail('nothing would be imported');
    return run.totals.invalid || run.fileProblems.length || run.totals.rolledBack ? 2 : 0;
  }

  const vaultDir = values.vault ?? process.env.EHR_VAULT_DIR ?? fail('--vault <dir> (or EHR_VAULT_DIR) is required');
  const policy = values.policy
    ? parsePolicy(JSON.parse(readFileSync(values.policy, 'utf8')))
    : { serverUrl: values.server ?? '', serverCertFingerprint: values.fingerprint ?? '' };
  if (!policy.serverUrl || !policy.serverCertFingerprint) fail('--policy, or --server and --fingerprint, are required');
  const username = values.user ?? process.env.EHR_IMPORT_USER ?? fail('--user (or EHR_IMPORT_USER) is required');
  const password = process.env.EHR_IMPORT_PASSWORD ?? fail('EHR_IMPORT_PASSWORD is required (never pass a password as an argument)');
  const vault = await openVault({ dir: vaultDir, keyStore: createKeytarKeyStore(values['keychain-service'] ?? 'clinic-ehr') });
  try {
    const client = createServerClient({ serverUrl: policy.serverUrl, fingerprint: policy.serverCertFingerprint, deviceId: vault.device.deviceId });
    try {
      if (values['enroll-code']) {
        await client.enroll({ code: values['enroll-code'], publicKey: vault.device.publicKeyRaw, name: 'FHIR import' });
        vault.kv.set(ENROLLED, new Date().toISOString());
      }
      const tokens = await client.login({ username, password });
      const engine = createSyncEngine({ vault, client, pushBatch: IMPORT_PUSH_BATCH });
      // The push runs beside the import (import-files.ts importAndSync), then one last full cycle.
      const { run, status } = await importAndSync(positionals, { vault, keys: engine.keys, userId: tokens.user.id, role: tokens.user.roles[0] ?? 'admin', onDuplicateMrn }, engine, (p) => bar.update(p));
      bar.done();
      process.stderr.write(summary(run, false));
      const sync = { pending: status.pendingMutations, held: status.heldMutations, state: status.state, errorCode: status.errorCode, auditPending: status.audit.pending };
      writeReport({ ...run, sync });
      process.stderr.write(`import: sync: ${sync.pending} record(s) waiting, ${sync.held} held, state ${sync.state}${sync.errorCode ? ` (${sync.errorCode})` : ''}\n`);
      if (run.totals.imported + run.totals.unchanged + run.totals.directory === 0) fail('nothing was imported (see the problems above)');
      if (sync.pending || sync.state === 'error' || sync.state === 'offline') {
        process.stderr.write(`import: sync failed or is incomplete: ${status.message ?? sync.errorCode ?? `${sync.pending} record(s) not yet on the server`}; they stay queued in the vault and go with the next sync\n`);
        return 2;
      }
      return run.totals.invalid || run.totals.rolledBack || run.fileProblems.length || run.bundles.some((b) => b.identity.some((m) => m.action === 'refused')) ? 2 : 0;
    } finally {
      client.close();
    }
  } finally {
    vault.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => fail(e instanceof EhrError ? `${e.code}: ${e.message}` : 'unexpected failure (no details are printed, they could contain patient data)'),
);
