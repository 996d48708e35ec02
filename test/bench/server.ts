/**
 * Sync server benchmark (`npm run bench -- server`): one instance on PostgreSQL (PGlite when no
 * EHR_TEST_DATABASE_URL), real HTTPS on loopback, a keep-alive client.
 *   push_mutations_per_s  batches of 100 envelopes of ~1 KB      target >= 2,000/s
 *   push_p95_ms           per batch of 100
 *   pull_records_per_s    pages of 1,000 over >= 200,000 records of >= 5,000 care-team patients
 *                         (BENCH_SERVER_PULL_RECORDS / BENCH_SERVER_PULL_PATIENTS)   target >= 20,000/s
 *   audit_ingest_per_s    hash chain, batches of 500 ending in a signed checkpoint   target >= 5,000/s
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { percentile, type BenchResult } from './bench-kit';
import { startServer } from '../../src-server/index';
import { upsert as upsertRecords, type RecordRow } from '../../src-server/store/records';
import { seal } from '../../src-shared/node/envelope';
import { linkEntry } from '../../src-shared/node/audit-chain';
import type { AuditEntry } from '../../src-shared/audit';
import { CORRELATION_HEADER, type PullResponse, type TokenResponse } from '../../src-shared/sync';

const PULL_RECORDS = Number(process.env.BENCH_SERVER_PULL_RECORDS ?? 200_000);
const PULL_PATIENTS = Number(process.env.BENCH_SERVER_PULL_PATIENTS ?? 5_000);

/** A V8 CPU profile of this process (client and server both run here) while fn runs (BENCH_SERVER_CPU_PROF=dir). */
async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_SERVER_CPU_PROF;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  const post = (method: string) => new Promise<unknown>((resolve, reject) => session.post(method, {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/**
 * The pull's data set, written straight through the server's own record writer (sealing on the
 * way in is not what this figure measures): PULL_PATIENTS patients on the nurse's ward, their
 * records spread round-robin so every page mixes many patients, like a clinic's history.
 */
async function seedPullSet(server: Awaited<ReturnType<typeof startServer>>, key: Buffer): Promise<number> {
  const ids = Array.from({ length: PULL_PATIENTS }, (_, i) => `pull-p-${String(i).padStart(5, '0')}`);
  await server.db.tx(async (sql) => {
    await sql.query('INSERT INTO patients (id) SELECT unnest($1::text[])', [ids]);
    await sql.query("INSERT INTO care_team_patients (team_id, patient_id) SELECT 'team-ward-a', unnest($1::text[])", [ids]);
  });
  const body = randomBytes(760);
  const at = new Date();
  for (let start = 0; start < PULL_RECORDS; start += 5000) {
    const rows: RecordRow[] = [];
    for (let i = start; i < Math.min(PULL_RECORDS, start + 5000); i++) {
      const patientId = ids[i % ids.length]!;
      const env = seal({ recordId: `pull-r-${i}`, patientId, resourceType: 'Observation', version: 1, keyId: `${patientId}-k1` }, body, key);
      rows.push({ record_id: env.recordId, patient_id: patientId, resource_type: 'Observation', version: 1, key_id: env.keyId, nonce: env.nonce, ct: env.ct, tag: env.tag,
        deleted: false, author_user_id: 'u-physician', device_id: 'bench-seed', updated_at: at });
    }
    await server.db.tx((sql) => upsertRecords(sql, rows));
  }
  return PULL_RECORDS;
}

async function freshDatabase(adminUrl: string): Promise<string> {
  const name = `ehr_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export default async function run(): Promise<BenchResult> {
  const adminUrl = process.env.EHR_TEST_DATABASE_URL;
  const dataDir = mkdtempSync(join(tmpdir(), 'ehr-bench-'));
  const databaseUrl = adminUrl ? await freshDatabase(adminUrl) : undefined;
  const server = await startServer({ dataDir, databaseUrl, port: 0, seed: 'demo', demoPatients: 60 });
  const agent = new Agent({ keepAlive: true, maxSockets: 4, ca: server.caCert, minVersion: 'TLSv1.3' });
  const send = <T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${server.url}${path}`, {
        method, agent,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          [CORRELATION_HEADER]: `bench-${randomUUID()}`,
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as T }));
      });
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });

  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const deviceId = `bench-${randomUUID()}`;
    await send('POST', '/v1/devices/enroll', { code: await server.issueEnrollmentCode(), deviceId, publicKey: (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64url') });
    const login = await send<TokenResponse>('POST', '/v1/auth/login', { username: 'nurse', password: 'demo-nurse-2026', deviceId });
    const token = login.body.accessToken;
    const key = randomBytes(32);
    const patients = Array.from({ length: 40 }, (_, i) => `demo-p-${String(i + 2).padStart(4, '0')}`);
    const batch = () =>
      Array.from({ length: 100 }, (_, i) => {
        const patientId = patients[i % patients.length]!;
        const env = seal({ recordId: `bench-${randomUUID()}`, patientId, resourceType: 'Observation', version: 1, keyId: 'bench-k' }, randomBytes(760), key);
        return { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: env };
      });

    // Push: warm up, then timed batches (sealing happens before the clock starts).
    for (let i = 0; i < 3; i++) await send('POST', '/v1/sync/push', { mutations: batch() }, token);
    const batches = Array.from({ length: 60 }, batch);
    const pushMs: number[] = [];
    const pushStart = performance.now();
    for (const mutations of batches) {
      const t0 = performance.now();
      const res = await send('POST', '/v1/sync/push', { mutations }, token);
      if (res.status !== 200) throw new Error(`push ${res.status}`);
      pushMs.push(performance.now() - t0);
    }
    const pushSeconds = (performance.now() - pushStart) / 1000;
    const pushed = batches.length * 100;

    // Pull: everything the nurse may see, pages of 1000, over the big set seeded here.
    const seedStart = performance.now();
    await seedPullSet(server, key);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const [set] = await server.db.query<{ visible: number; patients: number }>(
      "SELECT count(*)::int AS visible, count(DISTINCT r.patient_id)::int AS patients FROM records r JOIN care_team_patients c ON c.patient_id = r.patient_id AND c.team_id = 'team-ward-a'");
    const visible = set?.visible ?? 0;
    const pullMs: number[] = [];
    const pullStart = performance.now();
    let cursor = '';
    let pulled = 0;
    await profiled('server-pull', async () => {
      for (;;) {
        const t0 = performance.now();
        const res = await send<PullResponse>('GET', `/v1/sync/pull?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, undefined, token);
        if (res.status !== 200) throw new Error(`pull ${res.status}`);
        pullMs.push(performance.now() - t0);
        pulled += res.body.records.length;
        cursor = res.body.nextCursor;
        if (!res.body.hasMore) break;
      }
    });
    const pullSeconds = (performance.now() - pullStart) / 1000;
    // The figure only counts if the pull really walked the whole set.
    if (pulled !== visible) throw new Error(`pull returned ${pulled} records, the nurse may see ${visible}`);

    // Audit ingest: a chain built beforehand and sent in order, in batches of 500 that each end in a
    // signed checkpoint — exactly what the workstation's audit queue sends (vault nextPushBatch).
    const AUDIT_BATCH = 500;
    const entries: AuditEntry[] = [];
    let head: { seq: number; hash: string } | null = null;
    for (let i = 0; i < 10_000; i++) {
      const endsBatch = (i + 1) % AUDIT_BATCH === 0;
      const e = linkEntry(head, deviceId, { action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: null, correlationId: `c-${i}-bench` }, endsBatch ? privateKey : undefined);
      entries.push(e);
      head = { seq: e.seq, hash: e.hash };
    }
    const auditStart = performance.now();
    for (let i = 0; i < entries.length; i += AUDIT_BATCH) {
      const res = await send('POST', '/v1/audit', { deviceId, entries: entries.slice(i, i + AUDIT_BATCH) }, token);
      if (res.status !== 200) throw new Error(`audit ${res.status}`);
    }
    const auditSeconds = (performance.now() - auditStart) / 1000;

    return {
      figures: {
        push_mutations_per_s: pushed / pushSeconds,
        push_p95_ms: percentile(pushMs, 95),
        pull_records_per_s: pulled / pullSeconds,
        audit_ingest_per_s: entries.length / auditSeconds,
      },
      targets: { push_mutations_per_s: '>= 2000', pull_records_per_s: '>= 20000', audit_ingest_per_s: '>= 5000', push_p95_ms: '(report)' },
      details: {
        engine: databaseUrl ? 'postgresql' : 'pglite', pushed, pulled, pullPatients: set?.patients, pullSeedSeconds: seedSeconds,
        pullPageP95Ms: percentile(pullMs, 95), auditEntries: entries.length, pushMedianMs: percentile(pushMs, 50),
      },
      notes: [
        `pull: ${pulled} records of ${PULL_PATIENTS}+ care-team patients in ${pullMs.length} pages; page p95 ${percentile(pullMs, 95).toFixed(1)} ms`,
        databaseUrl ? 'PostgreSQL (throwaway cluster, fsync off) — one server instance.' : 'No EHR_TEST_DATABASE_URL: measured on PGlite, not PostgreSQL.',
        'Client and server share the 2-core machine (and other engineers\' jobs); HTTPS with keep-alive.',
      ],
    };
  } finally {
    agent.destroy();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
