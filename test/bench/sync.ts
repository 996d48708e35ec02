/**
 * Sync benchmark: `npm run bench -- sync` -> bench/results/sync.json
 *
 *  initial_sync_records_per_s  a fresh workstation pulls, opens and stores N records of ~1 KB
 *                              (default 100,000) of BENCH_SYNC_PATIENTS care-team patients (default
 *                              5,000: every one a key unwrap) from the real server on loopback, with
 *                              the server's access-rate monitor at its production settings
 *  drain_10k_s                 10,000 queued mutations sealed and pushed; every one must come back
 *                              applied and be on the server, or the figure is not reported
 *  seal_per_s / open_per_s     1 KB envelopes, one core (details: node_gcm_per_s, Node's AES-256-GCM
 *                              calls alone on the same bytes in the same run, and seal's ratio to it)
 *
 * Environment: BENCH_SYNC_RECORDS (scale the initial sync down on a busy box), BENCH_SYNC_DRAIN
 * (default 10,000), BENCH_SYNC_PG=1 to use PostgreSQL (EHR_TEST_DATABASE_URL) instead of PGlite.
 */
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchResult } from './bench-kit';
import { envelopeAad, open, seal } from '../../src-shared/node/envelope';
import { sealJson } from '../../src-shared/node/envelope';
import { startServer } from '../../src-server/index';
import { upsert as upsertRecords, type RecordRow } from '../../src-server/store/records';
import { openVault, type Vault } from '../../src-main/core/vault';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { createServerClient, type ServerClient } from '../../src-main/core/sync/server-client';
import { pullChanges } from '../../src-main/core/sync/pull';
import { createDataKeyService } from '../../src-main/core/crypto/data-keys';
import { drainOutbox } from '../../src-main/core/sync/outbox-drain';
import { DEFAULT_BACKOFF } from '../../src-main/core/sync/backoff';
import { LIMITS } from '../../src-shared/sync/common';

const RECORDS = Number(process.env.BENCH_SYNC_RECORDS ?? 100_000);
const DRAIN = Number(process.env.BENCH_SYNC_DRAIN ?? 10_000);
const PATIENTS = Number(process.env.BENCH_SYNC_PATIENTS ?? 5_000);
/** Records per pull page: the sync engine's default (LIMITS.pullLimitMax) unless BENCH_SYNC_PULL_LIMIT says otherwise. */
const PULL_LIMIT = Number(process.env.BENCH_SYNC_PULL_LIMIT ?? LIMITS.pullLimitMax);
const PAD = 'x'.repeat(850);

function perSecond(fn: () => void, ms = 1500): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  return n / ((performance.now() - t0) / 1000);
}

const observation = (id: string, patientId: string, i: number) => ({
  resourceType: 'Observation', id, status: 'final', code: { text: 'Bench note' },
  subject: { reference: `Patient/${patientId}` }, valueString: `${i} ${PAD}`,
});

/** A V8 CPU profile of this process between start and stop (BENCH_SYNC_CPU_PROF). */
export async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) => new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

interface Endpoint {
  url: string;
  fingerprint: string;
}

/** The server in its own process, on the data dir the in-process seeding left behind. */
/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
export function processCpuSeconds(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren): utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export function spawnServer(dataDir: string, databaseUrl: string | undefined): Promise<{ endpoint: Endpoint; pid: number; stop(): Promise<void> }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'sync', 'helpers', 'server-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir, ...(databaseUrl ? [databaseUrl] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve({ endpoint: JSON.parse(line) as Endpoint, pid: child.pid!, stop }));
  });
}

async function workstation(server: Endpoint, code: string, username: string, password: string, dirs: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-bench-ws-'));
  dirs.push(dir);
  const vault = await openVault({ dir, keyStore: createMemoryKeyStore(), cacheSizeMb: 256 });
  const client = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: vault.device.deviceId });
  await client.enroll({ code, publicKey: vault.device.publicKeyRaw });
  await client.login({ username, password });
  return { vault, client };
}

/** record id -> version of every record the server holds for these patients (pulled back, after the clock stopped). */
async function drainedOnServer(client: ServerClient, patientIds: string[]): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const patientId of patientIds) {
    let cursor: string | undefined;
    for (;;) {
      const page = await client.pull({ patientId, limit: LIMITS.pullLimitMax, ...(cursor ? { cursor } : {}) });
      for (const r of page.records) versions.set(r.envelope.recordId, r.envelope.version);
      if (!page.hasMore) break;
      cursor = page.nextCursor;
    }
  }
  return versions;
}

async function close(ws: { vault: Vault; client: ServerClient }) {
  ws.client.close();
  ws.vault.close();
}

export default async function run(): Promise<BenchResult> {
  const notes: string[] = [];
  const dirs: string[] = [];
  // --- seal / open, one core ------------------------------------------------------------------
  const key = randomBytes(32);
  const kb = randomBytes(1024);
  const binding = { recordId: 'r-1', patientId: 'p-1', resourceType: 'Observation', version: 1, keyId: 'k-1' };
  const seal_per_s = perSecond(() => seal(binding, kb, key));
  const sample = seal(binding, kb, key);
  const open_per_s = perSecond(() => open(sample, key));
  // The floor under seal_per_s on this machine, in this run: Node's AES-256-GCM calls alone (create
  // with a fresh nonce, the record's AAD, update, final, tag) on the same bytes, without the
  // envelope's checks, text encoding and object. Their ratio is the envelope's own cost; what is
  // left below the target is the runtime's per-call cost.
  // (Nonces repeat once the 4,096 here are used: nothing encrypted in this loop is kept or sent.)
  const ivs = randomBytes(12 * 4096);
  let ivAt = 0;
  const node_gcm_per_s = perSecond(() => {
    ivAt = (ivAt + 12) % ivs.length;
    const c = createCipheriv('aes-256-gcm', key, ivs.subarray(ivAt, ivAt + 12));
    c.setAAD(envelopeAad(binding));
    c.update(kb);
    c.final();
    c.getAuthTag();
  });
  notes.push(`seal: ${Math.round(seal_per_s)}/s; Node's AES-256-GCM calls alone on the same 1 KB: ${Math.round(node_gcm_per_s)}/s (seal ÷ that = ${(seal_per_s / node_gcm_per_s).toFixed(2)})`);

  // --- the real server on loopback ------------------------------------------------------------
  const dataDir = mkdtempSync(join(tmpdir(), 'ehr-bench-server-'));
  dirs.push(dataDir);
  const pg = process.env.BENCH_SYNC_PG === '1' && process.env.EHR_TEST_DATABASE_URL;
  const server = await startServer({
    dataDir, port: 0, seed: 'demo', demoPatients: 2,
    ...(pg ? { databaseUrl: process.env.EHR_TEST_DATABASE_URL } : {}),
    // No config override: the access-rate monitor runs with the production defaults.
  });
  notes.push(`server database: ${pg ? 'PostgreSQL' : 'PGlite'}; the server runs in its own process after seeding`);
  let serverProcess: { endpoint: Endpoint; pid: number; stop(): Promise<void> } | null = null;
  let inProcessOpen = true;
  const closeInProcess = async () => {
    if (inProcessOpen) await server.close();
    inProcessOpen = false;
  };
  try {
    // Seed N records for the doctor's care team: keys wrapped through the key service, envelopes
    // sealed exactly as workstations seal them, stored with the server's own record writer.
    const seeder = await workstation(server, await server.issueEnrollmentCode(), 'doctor', 'demo-doctor-2026', dirs);
    const keys = new Map<string, { keyId: string; key: Buffer }>();
    // Patients of the nurse's ward (team-ward-a), registered as a clinic's patients are, then their keys.
    const patientIds = Array.from({ length: PATIENTS }, (_, p) => `bench-p-${p}`);
    await server.db.tx(async (sql) => {
      await sql.query('INSERT INTO patients (id) SELECT unnest($1::text[])', [patientIds]);
      await sql.query("INSERT INTO care_team_patients (team_id, patient_id) SELECT 'team-ward-a', unnest($1::text[])", [patientIds]);
    });
    const toWrap = [...patientIds];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let patientId = toWrap.shift(); patientId; patientId = toWrap.shift()) {
        const k = { keyId: `${patientId}-k1`, key: randomBytes(32) };
        await seeder.client.wrapKey({ patientId, keyId: k.keyId, dataKey: k.key.toString('base64url') });
        keys.set(patientId, k);
      }
    }));
    const t0 = performance.now();
    for (let start = 0; start < RECORDS; start += 2000) {
      const rows: RecordRow[] = [];
      for (let i = start; i < Math.min(RECORDS, start + 2000); i++) {
        const patientId = `bench-p-${i % PATIENTS}`;
        const k = keys.get(patientId)!;
        const id = `bench-r-${i}`;
        const env = sealJson({ recordId: id, patientId, resourceType: 'Observation', version: 1, keyId: k.keyId }, observation(id, patientId, i), k.key);
        rows.push({ record_id: id, patient_id: patientId, resource_type: 'Observation', version: 1, key_id: k.keyId, nonce: env.nonce, ct: env.ct, tag: env.tag,
          deleted: false, author_user_id: 'u-physician', device_id: 'bench-seed', updated_at: new Date() });
      }
      await server.db.tx((sql) => upsertRecords(sql, rows));
    }
    // A server's tables are not read for the first time by a new workstation: other workstations
    // pulled them and maintenance ran. Without this, the first read of every freshly inserted row
    // sets its hint bits and rewrites its page, a cost no clinic's initial sync meets.
    await server.db.query('VACUUM ANALYZE records');
    notes.push(`seeded ${RECORDS} records (~${Math.round(JSON.stringify(observation('bench-r-0', 'bench-p-0', 0)).length)} B plaintext each) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await close(seeder);
    const codes = [await server.issueEnrollmentCode(), await server.issueEnrollmentCode()];
    await closeInProcess();
    serverProcess = await spawnServer(dataDir, pg ? process.env.EHR_TEST_DATABASE_URL : undefined);
    const remote = serverProcess.endpoint;

    // --- initial sync: pull, open, store ----------------------------------------------------------
    const fresh = await workstation(remote, codes[0]!, 'nurse', 'demo-nurse-2026', dirs);
    const pullCtx = {
      vault: fresh.vault, client: fresh.client, keys: createDataKeyService({ vault: fresh.vault, client: fresh.client }),
      deviceId: fresh.vault.device.deviceId, now: () => new Date(), backoff: DEFAULT_BACKOFF, pushBatch: 500, pullLimit: PULL_LIMIT, auditBatch: 2000,
    };
    const profiler = process.env.BENCH_SYNC_CPU_PROF ? await startProfile() : null;
    const serverCpu0 = processCpuSeconds(serverProcess.pid);
    const clientCpu0 = process.cpuUsage();
    const s0 = performance.now();
    const pulled = await pullChanges(pullCtx);
    const initialSeconds = (performance.now() - s0) / 1000;
    const clientCpu = process.cpuUsage(clientCpu0);
    const serverCpu = serverCpu0 === null ? null : processCpuSeconds(serverProcess.pid)! - serverCpu0;
    if (profiler) await profiler.stop(join(process.env.BENCH_SYNC_CPU_PROF!, 'client-pull.cpuprofile'));
    const stored = fresh.vault.resources.count();
    // The demo seed's two patients are not on the nurse's ward; everything seeded here is.
    if (stored < RECORDS) throw new Error(`initial sync stored ${stored} of ${RECORDS} records`);
    const t = pulled.timings;
    notes.push(`initial sync stored ${stored} records in ${initialSeconds.toFixed(1)} s (waiting for pages ${(t.fetchMs / 1000).toFixed(1)} s, opening ${(t.openMs / 1000).toFixed(1)} s, storing ${(t.storeMs / 1000).toFixed(1)} s)`);
    // Both processes share this machine's cores: their CPU time says which side sets the pace.
    notes.push(`initial sync CPU: workstation process ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s, server process ${serverCpu === null ? 'n/a' : `${serverCpu.toFixed(1)} s`}${pg ? ' (PostgreSQL itself not counted)' : ' (PGlite runs inside it)'}, over ${initialSeconds.toFixed(1)} s on ${availableParallelism()} cores`);
    const initial_sync_records_per_s = stored / initialSeconds;
    await close(fresh);

    // --- drain 10k ------------------------------------------------------------------------------
    const drainer = await workstation(remote, codes[1]!, 'doctor2', 'demo-doctor2-2026', dirs);
    const dkeys = createDataKeyService({ vault: drainer.vault, client: drainer.client });
    const dpatients = Array.from({ length: 20 }, (_, i) => `drain-p-${randomUUID().slice(0, 8)}-${i}`);
    for (const p of dpatients) dkeys.createForNewPatient(p);
    drainer.vault.transaction(() => {
      for (let i = 0; i < DRAIN; i++) {
        const patientId = dpatients[i % dpatients.length]!;
        const id = `drain-r-${i}`;
        drainer.vault.outbox.enqueue({ mutationId: randomUUID(), recordId: id, patientId, resourceType: 'Observation', baseVersion: 0, op: 'create', payload: observation(id, patientId, i) });
      }
    });
    const d0 = performance.now();
    const report = await drainOutbox({
      vault: drainer.vault, client: drainer.client, keys: dkeys, deviceId: drainer.vault.device.deviceId, now: () => new Date(),
      backoff: DEFAULT_BACKOFF, pushBatch: 500, pullLimit: 1000, auditBatch: 2000,
    });
    const drain_10k_s = ((performance.now() - d0) / 1000) * (10_000 / DRAIN);
    // Every mutation's outcome: all applied (none duplicate, conflicting or held), the outbox empty,
    // and the server holding exactly those records at version 1.
    const left = drainer.vault.outbox.count();
    if (report.applied !== DRAIN || report.duplicates || report.conflicts || report.held || left) {
      throw new Error(`drain: ${report.applied}/${DRAIN} applied, ${report.duplicates} duplicate, ${report.conflicts} conflict, ${report.held} held, ${left} left`);
    }
    const onServer = await drainedOnServer(drainer.client, dpatients);
    if (onServer.size !== DRAIN || [...onServer.values()].some((v) => v !== 1)) {
      throw new Error(`drain: the server holds ${onServer.size} of ${DRAIN} drained records (all must be at version 1)`);
    }
    notes.push(`drain: ${report.applied} of ${DRAIN} applied, ${left} left, ${onServer.size} read back from the server`);
    await close(drainer);

    return {
      figures: {
        initial_sync_records_per_s,
        drain_10k_s,
        seal_per_s,
        open_per_s,
      },
      targets: {
        initial_sync_records_per_s: '>= 15000',
        drain_10k_s: '<= 10',
        seal_per_s: '>= 100000',
        open_per_s: '>= 100000',
      },
      details: { node_gcm_per_s, seal_vs_node_gcm: seal_per_s / node_gcm_per_s, records: RECORDS, drained: DRAIN, patients: PATIENTS, rateMonitor: 'production defaults', pullLimit: PULL_LIMIT, pushBatch: 500 },
      notes,
    };
  } finally {
    await serverProcess?.stop();
    await closeInProcess();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
