/**
 * Import benchmark: `npm run bench -- import` -> bench/results/import.json
 *
 *  import_synced_resources_per_s  a folder of Synthea-shaped patient bundles (one per patient,
 *                                 100–1,100 entries, test/helpers/synthea.ts) imported into a fresh
 *                                 workstation vault AND synced to the real server (own process,
 *                                 loopback TLS): resources / (import + sync) seconds
 *  import_resources_per_s         resources / time until the last file was imported (the push runs beside it)
 *  sync_tail_s                    how long the sync took after the last file (what the push had not caught up)
 *  per_file_fixed_ms              what a one-resource bundle costs (the fixed cost per file)
 *  validation_worker_speedup      import-only rate with the validation worker / without it, on the
 *                                 same small folder into fresh vaults, measured in this run (no push)
 *
 * Environment: BENCH_IMPORT_PATIENTS (default 1000; scale down on a busy box), BENCH_IMPORT_AB_PATIENTS
 * (default 40: the worker-on/off comparison), BENCH_IMPORT_CPU_PROF=<dir>
 * (V8 CPU profile of the client), BENCH_SYNC_PG=1 for PostgreSQL instead of PGlite.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchResult } from './bench-kit';
import { processCpuSeconds, spawnServer, startProfile } from './sync';
import { startServer } from '../../src-server/index';
import { openVault } from '../../src-main/core/vault';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { createSyncEngine } from '../../src-main/core/sync';
import { IMPORT_PUSH_BATCH, importAndSync, importFiles } from '../../src-main/core/sync/import-files';
import { mulberry32 } from '../../src-shared/prng';
import { syntheaBundle } from '../helpers/synthea';

const PATIENTS = Number(process.env.BENCH_IMPORT_PATIENTS ?? 1000);
const TARGET = 2000;
const AB_PATIENTS = Number(process.env.BENCH_IMPORT_AB_PATIENTS ?? 40);

export default async function run(): Promise<BenchResult> {
  const notes: string[] = [];
  const dirs: string[] = [];
  const tmp = (p: string) => {
    const d = mkdtempSync(join(tmpdir(), p));
    dirs.push(d);
    return d;
  };
  // --- the folder: one bundle per patient, sizes spread over 100–1,100 entries, like Synthea's ---
  const folder = tmp('ehr-bench-import-');
  mkdirSync(join(folder, 'fhir'));
  const rand = mulberry32(14);
  let entries = 0;
  const g0 = performance.now();
  for (let i = 0; i < PATIENTS; i++) {
    const b = syntheaBundle(10_000 + i, { entries: 100 + Math.floor(rand() * 1000), type: i % 2 ? 'batch' : 'transaction' });
    entries += b.entry.length;
    writeFileSync(join(folder, 'fhir', `patient-${String(i).padStart(5, '0')}.json`), JSON.stringify(b));
  }
  notes.push(`generated ${PATIENTS} bundles, ${entries} entries, in ${((performance.now() - g0) / 1000).toFixed(1)} s (not timed)`);
  const abFolder = tmp('ehr-bench-import-ab-');
  const abRand = mulberry32(41);
  for (let i = 0; i < AB_PATIENTS; i++) {
    const b = syntheaBundle(900_000 + i, { entries: 100 + Math.floor(abRand() * 1000), type: i % 2 ? 'batch' : 'transaction' });
    writeFileSync(join(abFolder, `patient-${String(i).padStart(5, '0')}.json`), JSON.stringify(b));
  }
  // One-resource bundles (a Patient each), distinct, so none is an unchanged no-op.
  const tinyDir = tmp('ehr-bench-import-tiny-');
  const tiny = [1, 2, 3, 4, 5].map((seed) => {
    const b = syntheaBundle(seed, { entries: 1 });
    const file = join(tinyDir, `one-${seed}.json`);
    writeFileSync(file, JSON.stringify({ ...b, entry: b.entry.slice(0, 1) }));
    return file;
  });

  const dataDir = tmp('ehr-bench-import-server-');
  const pg = process.env.BENCH_SYNC_PG === '1' && process.env.EHR_TEST_DATABASE_URL;
  const seeded = await startServer({ dataDir, port: 0, seed: 'demo', demoPatients: 2, ...(pg ? { databaseUrl: process.env.EHR_TEST_DATABASE_URL } : {}) });
  const code = await seeded.issueEnrollmentCode();
  await seeded.close();
  const server = await spawnServer(dataDir, pg ? process.env.EHR_TEST_DATABASE_URL : undefined);
  notes.push(`server database: ${pg ? 'PostgreSQL' : 'PGlite'}, in its own process`);
  try {
    const vault = await openVault({ dir: tmp('ehr-bench-import-ws-'), keyStore: createMemoryKeyStore() });
    const client = createServerClient({ serverUrl: server.endpoint.url, fingerprint: server.endpoint.fingerprint, deviceId: vault.device.deviceId });
    try {
      await client.enroll({ code, publicKey: vault.device.publicKeyRaw });
      const tokens = await client.login({ username: 'doctor', password: 'demo-doctor-2026' });
      const engine = createSyncEngine({ vault, client, intervalMs: 3_600_000, pushBatch: IMPORT_PUSH_BATCH });
      const opts = { vault, keys: engine.keys, userId: tokens.user.id, role: 'physician' };

      // Fixed cost of a file: a one-resource bundle, median of a few.
      const fixed: number[] = [];
      for (const file of tiny) {
        const t = performance.now();
        importFiles([file], opts);
        fixed.push(performance.now() - t);
      }
      await engine.syncNow();

      // The validation worker's effect, in this run: the same small folder imported (no push) into two
      // fresh vaults, worker off then on, twice each, best of each kept.
      const abRates: Record<'off' | 'on', number[]> = { off: [], on: [] };
      const idle = async () => engine.status();
      for (const round of [0, 1]) {
        for (const mode of ['off', 'on'] as const) {
          const v = await openVault({ dir: tmp(`ehr-bench-import-ab-${mode}-${round}-`), keyStore: createMemoryKeyStore() });
          try {
            const keys = createSyncEngine({ vault: v, client, intervalMs: 3_600_000 }).keys;
            const t = performance.now();
            const { run: r } = await importAndSync([abFolder], { ...opts, vault: v, keys }, { syncNow: idle }, undefined, { validationWorker: mode === 'on' });
            abRates[mode].push((r.totals.imported + r.totals.directory) / ((performance.now() - t) / 1000));
          } finally {
            v.close();
          }
        }
      }
      const abOff = Math.max(...abRates.off);
      const abOn = Math.max(...abRates.on);
      notes.push(`validation worker A/B (${AB_PATIENTS} patients, import only): ${abOff.toFixed(0)}/s without, ${abOn.toFixed(0)}/s with`);

      const profiler = process.env.BENCH_IMPORT_CPU_PROF ? await startProfile() : null;
      // What `npm run import` does: import and push side by side, then a last full cycle.
      const serverCpu0 = processCpuSeconds(server.pid);
      const clientCpu0 = process.cpuUsage();
      const i0 = performance.now();
      let importedAt = 0;
      const { run: report, status } = await importAndSync([folder], opts, engine, (p) => {
        if (p.filesDone === p.files) importedAt = performance.now();
      });
      const totalS = (performance.now() - i0) / 1000;
      const clientCpu = process.cpuUsage(clientCpu0);
      const serverCpu = serverCpu0 === null ? null : processCpuSeconds(server.pid)! - serverCpu0;
      const importS = (importedAt - i0) / 1000;
      const syncS = totalS - importS;
      if (profiler) await profiler.stop(join(process.env.BENCH_IMPORT_CPU_PROF!, 'client-import.cpuprofile'));
      const resources = report.totals.imported + report.totals.directory;
      notes.push(`imported ${report.totals.imported} records + ${report.totals.directory} directory resources of ${report.totals.patients} patients in ${importS.toFixed(1)} s (pushing beside it), the rest synced ${syncS.toFixed(1)} s later (state ${status.state}, ${status.pendingMutations} left, ${status.audit.pending} audit entries left)`);
      // Both processes share this machine's cores: their CPU time says which side sets the pace.
      notes.push(`CPU during import + sync: workstation process ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s (the validation worker included), server process ${serverCpu === null ? 'n/a' : `${serverCpu.toFixed(1)} s`}${pg ? ' (PostgreSQL itself not counted)' : ' (PGlite runs inside it)'}, over ${totalS.toFixed(1)} s on ${availableParallelism()} cores`);
      if (report.totals.invalid || report.fileProblems.length) notes.push(`unexpected: ${report.totals.invalid} invalid entries, ${report.fileProblems.length} file problems`);
      const sorted = [...fixed].sort((a, b) => a - b);
      return {
        figures: {
          import_synced_resources_per_s: resources / totalS,
          import_resources_per_s: resources / importS,
          sync_tail_s: syncS,
          per_file_fixed_ms: sorted[Math.floor(sorted.length / 2)]!,
          validation_worker_speedup: abOn / abOff,
          patients: report.totals.patients,
          resources,
        },
        targets: {
          import_synced_resources_per_s: `>= ${TARGET} (1,000 Synthea patients)`,
          import_resources_per_s: `>= ${TARGET}`,
          sync_tail_s: 'small: the push keeps up with the import',
          per_file_fixed_ms: '<< 1200 (the cost before this suite)',
          validation_worker_speedup: '> 1 (ratio in this run)',
        },
        details: { patients: PATIENTS, entries, importSeconds: importS, syncTailSeconds: syncS, totalSeconds: totalS, fixedMs: fixed },
        notes,
      };
    } finally {
      client.close();
      vault.close();
    }
  } finally {
    await server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
