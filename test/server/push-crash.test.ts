/**
 * The sync server killed with SIGKILL in the middle of a push of many records. The server is a real
 * child process (src-server/main.ts on PGlite in a temp dir); the client is the real client core
 * (vault, pinned client, sync engine) pushing a full batch of 500 mutations in one request. Each
 * cycle kills the server at a seeded random moment of that request (EHR_CRASH_SEED replays them,
 * test/helpers/crash-seed.ts), restarts it on the same data and checks that the batch is there whole
 * or not at all — records, mutation rows and the push's audit entries alike, no orphan — and then
 * that the client's retry converges: every record on the server exactly once, at version 1.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it, vi } from 'vitest';
import { LIMITS } from '../../src-shared/sync';
import { crashRandom } from '../helpers/crash-seed';
import { DOCTOR, cleanupAll, makeWorkstation, note, saveLocally, tempDir, type Workstation } from '../sync/helpers/harness';
import { startTestServer, type TestServer } from './helpers';
import { spawnServerProcess, type ServerProcess } from './server-process';

afterAll(cleanupAll);

/** Cycles whose kill really cut the push request short. */
const KILLS = 5;
const BATCH = LIMITS.pushBatch;
const PATIENTS = ['demo-p-0002', 'demo-p-0003'];

/** What the server holds of one batch. */
async function heldOf(db: TestServer['db'], mutationIds: string[], recordIds: string[], correlationId = '') {
  const [m] = await db.query<{ n: number; applied: number }>(
    "SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'applied')::int AS applied FROM mutations WHERE mutation_id = ANY($1::text[])", [mutationIds]);
  const [r] = await db.query<{ n: number; v1: number }>(
    'SELECT count(*)::int AS n, count(*) FILTER (WHERE version = 1)::int AS v1 FROM records WHERE record_id = ANY($1::text[])', [recordIds]);
  // Orphans either way: a record without the mutation that wrote it, or a mutation row without its record.
  const [orphans] = await db.query<{ n: number }>(
    `SELECT ((SELECT count(*) FROM records r WHERE r.record_id = ANY($2::text[]) AND NOT EXISTS (SELECT 1 FROM mutations m WHERE m.record_id = r.record_id))
           + (SELECT count(*) FROM mutations m WHERE m.mutation_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM records r WHERE r.record_id = m.record_id)))::int AS n`,
    [mutationIds, recordIds]);
  const [conflicts] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM conflicts WHERE mutation_id = ANY($1::text[])', [mutationIds]);
  // The push's own audit entries (one per patient), written in its transaction: tied by the request's correlation id.
  const [audit] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM server_audit WHERE type = 'sync-push' AND correlation_id = $1", [correlationId]);
  return { mutations: m!.n, applied: m!.applied, records: r!.n, atVersion1: r!.v1, orphans: orphans!.n, conflicts: conflicts!.n, pushAudit: audit!.n };
}

/** Syncs until the outbox is empty (the engine backs off after the failed push; bounded). */
async function drain(ws: Workstation): Promise<void> {
  for (let i = 0; i < 60 && ws.vault.outbox.count() > 0; i++) {
    await ws.engine.syncNow();
    if (ws.vault.outbox.count() > 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(ws.vault.outbox.count()).toBe(0);
}

it(`a push of ${BATCH} records survives ${KILLS} SIGKILLs of the server mid-request: whole or nothing, then exactly once`, async () => {
  const dataDir = tempDir('push-crash-server');
  // Seed in-process (a small demo organisation), enroll and sign in; the process under test then
  // serves the same data directory (same TLS certificate, same port: the client keeps its pin).
  const seeding = await startTestServer({ name: 'pglite' }, { dataDir, seed: 'demo', demoPatients: 4 });
  const ws = await makeWorkstation(seeding, DOCTOR, { pushBatch: BATCH });
  await ws.engine.syncNow();
  const port = seeding.port;
  await seeding.close();

  const random = crashRandom('server push');
  let counter = 0;
  const queueBatch = () => {
    const mutationIds: string[] = [];
    const recordIds: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const id = `push-crash-${counter++}`;
      const patientId = PATIENTS[i % PATIENTS.length]!;
      mutationIds.push(saveLocally(ws.vault, note(id, patientId, `reading ${id} ${'x'.repeat(600)}`), patientId));
      recordIds.push(id);
    }
    return { mutationIds, recordIds };
  };

  // Calibration: one uninterrupted push of a full batch, timed from the client's request to its answer.
  let server: ServerProcess = await spawnServerProcess(dataDir, { port });
  const push = ws.client.push;
  let pushStarted: (() => void) | null = null;
  let lastCorrelationId = '';
  let lastPushMs = 0;
  vi.spyOn(ws.client, 'push').mockImplementation(async (req, opts) => {
    pushStarted?.();
    lastCorrelationId = randomUUID();
    const t0 = performance.now();
    const answer = await push(req, { ...opts, correlationId: lastCorrelationId });
    lastPushMs = performance.now() - t0;
    return answer;
  });
  // Every cycle pushes to a freshly started process, so the window is a fresh process's first push.
  const calibration = [queueBatch()];
  await ws.engine.syncNow();
  const windowMs = lastPushMs;
  expect(ws.vault.outbox.count()).toBe(0);
  const all = { mutationIds: calibration.flatMap((b) => b.mutationIds), recordIds: calibration.flatMap((b) => b.recordIds) };

  let killed = 0;
  let cycles = 0;
  const outcomes = { applied: 0, none: 0 };
  while (killed < KILLS && cycles < KILLS * 3) {
    cycles++;
    const batch = queueBatch();
    all.mutationIds.push(...batch.mutationIds);
    all.recordIds.push(...batch.recordIds);
    // From a quarter into the request (its body is in by then) to a little past its answer, where a
    // kill between the commit and the reply leaves an applied batch whose answer the client never gets.
    const delay = windowMs * (0.25 + 0.85 * random.next());
    let answered = false;
    const proc = server;
    pushStarted = () => {
      pushStarted = null; // only the batch's push, not a retry within the same cycle
      setTimeout(() => proc.child.kill('SIGKILL'), delay);
    };
    const attempt = ws.engine.syncNow().then(() => { answered = ws.vault.outbox.count() === 0; });
    expect(await proc.exited).toBe('SIGKILL');
    await attempt;
    const killedPush = lastCorrelationId;

    // Restart on the same data (in-process, to look inside), the same port for the client.
    const restarted = await startTestServer({ name: 'pglite' }, { dataDir, port, seed: 'none' });
    const held = await heldOf(restarted.db, batch.mutationIds, batch.recordIds, killedPush);
    expect(held.orphans).toBe(0);
    expect(held.conflicts).toBe(0);
    // Whole or nothing: all 500 mutation rows, records and the push's audit entries, or none of them.
    expect([0, BATCH]).toContain(held.mutations);
    const whole = held.mutations === BATCH;
    expect(held).toMatchObject({ applied: held.mutations, records: held.mutations, atVersion1: held.mutations, pushAudit: whole ? PATIENTS.length : 0 });
    if (!answered) {
      killed++;
      outcomes[whole ? 'applied' : 'none']++;
    }
    // The client retries against the restarted server: what was applied is answered as a
    // duplicate, the rest applied now — every record once, at version 1, no conflict.
    await drain(ws);
    const after = await heldOf(restarted.db, batch.mutationIds, batch.recordIds);
    expect(after).toMatchObject({ mutations: BATCH, applied: BATCH, records: BATCH, atVersion1: BATCH, orphans: 0, conflicts: 0 });
    await restarted.close();
    server = await spawnServerProcess(dataDir, { port });
  }
  console.log(`[server push] seed ${random.seed}: ${killed} of ${cycles} kills cut the push short (batch applied before the kill: ${outcomes.applied}, not applied: ${outcomes.none}); window ${windowMs.toFixed(0)} ms`);
  expect(killed).toBeGreaterThanOrEqual(KILLS);

  // Everything pushed, exactly once: every mutation id once and applied, every record at version 1.
  server.child.kill('SIGKILL');
  await server.exited;
  const final = await startTestServer({ name: 'pglite' }, { dataDir, port, seed: 'none' });
  try {
    const held = await heldOf(final.db, all.mutationIds, all.recordIds);
    expect(held).toMatchObject({ mutations: all.mutationIds.length, applied: all.mutationIds.length, records: all.recordIds.length, atVersion1: all.recordIds.length, orphans: 0, conflicts: 0 });
    const [dupes] = await final.db.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT mutation_id FROM mutations GROUP BY mutation_id HAVING count(*) > 1) d');
    expect(dupes!.n).toBe(0);
  } finally {
    await final.close();
  }
}, 600_000);
