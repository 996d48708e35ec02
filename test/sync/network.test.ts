/**
 * The network misbehaves: the connection drops mid-batch, an answer is lost after the server
 * applied the batch, the server restarts mid-pull, the certificate is not the pinned one.
 * Every mutation still lands exactly once, every record arrives once, and nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_FAMILY, DOCTOR, NURSE, cleanupAll, makeWorkstation, note, saveLocally, startTestServer, type TestServer } from './helpers/harness';
import { startFlakyProxy } from './helpers/flaky-proxy';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { createSyncEngine } from '../../src-main/core/sync';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ demoPatients: 8 });
});
afterAll(cleanupAll);

async function serverMutationCount(ids: string[]): Promise<Map<string, number>> {
  const rows = await server.db.query<{ mutation_id: string; n: number }>(
    'SELECT mutation_id, count(*)::int AS n FROM mutations WHERE mutation_id = ANY($1::text[]) GROUP BY mutation_id', [ids]);
  return new Map(rows.map((r) => [r.mutation_id, r.n]));
}

describe('connection drops', () => {
  it('mid-batch upload: nothing applied, retried with backoff, every mutation applied exactly once, in order', async () => {
    const proxy = await startFlakyProxy(server);
    const ws = await makeWorkstation({ ...server, url: proxy.url }, DOCTOR, { pushBatch: 10, backoff: { baseMs: 300, capMs: 300 } });
    await ws.engine.syncNow();
    const patientId = 'demo-p-0002';
    const ids: string[] = [];
    // 30 edits: 10 new notes, each then edited twice (order matters: edits build on each other).
    for (let i = 0; i < 10; i++) ids.push(saveLocally(ws.vault, note(`drop-${i}`, patientId, `v1 ${'x'.repeat(900)}`), patientId));
    for (let round = 2; round <= 3; round++) {
      for (let i = 0; i < 10; i++) ids.push(saveLocally(ws.vault, note(`drop-${i}`, patientId, `v${round} ${'y'.repeat(900)}`), patientId));
    }
    proxy.cutDuringUpload(6_000);
    const first = await ws.engine.syncNow();
    expect(proxy.cuts).toBe(1);
    expect(first.state).toBe('offline');
    expect(first.pendingMutations).toBe(30);
    // The failed attempt and its backoff are recorded on the queued rows (so they survive a restart).
    const head = ws.vault.outbox.list(1)[0]!;
    expect(head).toMatchObject({ attempts: 1, lastError: 'OFFLINE' });
    expect(Date.parse(head.nextAttemptAt)).toBeGreaterThan(Date.parse(head.createdAt));
    // The backoff is recorded on the rows (it survives a restart); wait it out, then retry.
    await new Promise((r) => setTimeout(r, 500));
    const second = await ws.engine.syncNow();
    expect(second.pendingMutations).toBe(0);
    const counts = await serverMutationCount(ids);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    for (let i = 0; i < 10; i++) {
      expect(ws.vault.resources.get(`drop-${i}`)).toMatchObject({ version: 3, status: 'synced' });
    }
    await proxy.close();
  });

  it('answer lost after the server applied the batch: the replay is answered "duplicate", applied once', async () => {
    const proxy = await startFlakyProxy(server);
    const ws = await makeWorkstation({ ...server, url: proxy.url }, NURSE);
    await ws.engine.syncNow();
    const patientId = 'demo-p-0003';
    const ids = Array.from({ length: 12 }, (_, i) => saveLocally(ws.vault, note(`lost-${i}`, patientId, `n ${'z'.repeat(900)}`), patientId, 'u-nurse'));
    proxy.cutAnswerAfterUpload(6_000);
    const first = await ws.engine.syncNow();
    expect(proxy.cuts).toBe(1);
    expect(first.pendingMutations).toBe(12);
    // The server already holds them…
    expect([...(await serverMutationCount(ids)).values()].every((n) => n === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    const second = await ws.engine.syncNow();
    expect(second.pendingMutations).toBe(0);
    expect(second.state).toBe('idle');
    // …and still exactly once after the replay.
    const counts = await serverMutationCount(ids);
    expect(ids.every((id) => counts.get(id) === 1)).toBe(true);
    expect(ws.vault.resources.get('lost-0')).toMatchObject({ version: 1, status: 'synced' });
    await proxy.close();
  });
});

describe('server restart mid-pull', () => {
  it('resumes from the saved cursor and ends with every record once', async () => {
    const ws = await makeWorkstation(server, DOCTOR, { pullLimit: 5 });
    let stopping: Promise<void> | null = null;
    const progress: { done: number; total: number }[] = [];
    ws.engine.onStatus((s) => {
      if (!s.pull) return;
      progress.push(s.pull);
      if (s.pull.done >= 10 && !stopping) stopping = server.close();
    });
    const interrupted = await ws.engine.syncNow();
    await stopping;
    expect(interrupted.state).toBe('offline');
    const cursor = ws.vault.kv.get('sync.pull.cursor');
    expect(cursor).toBeTruthy();
    const partial = ws.vault.resources.count();
    expect(partial).toBeGreaterThanOrEqual(10);

    server = await server.restart();
    const done = await ws.engine.syncNow();
    expect(done.state).toBe('idle');
    const total = progress.at(-1)!.total;
    expect(progress.at(-1)!.done).toBe(total);
    // Progress only moves forward across the restart: the pull resumed, it did not start over.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    expect(ws.vault.resources.count()).toBe(total);
  });
});

describe('certificate pinning against the real server', () => {
  it('a wrong fingerprint stops sync with a clear error and no automatic retry', async () => {
    const ws = await makeWorkstation(server, DOCTOR);
    saveLocally(ws.vault, note('pin-1', 'demo-p-0002', `${CANARY_FAMILY} pin test`), 'demo-p-0002');
    const wrong = createServerClient({ serverUrl: server.url, fingerprint: 'ab'.repeat(32), deviceId: ws.vault.device.deviceId });
    wrong.setTokens({ accessToken: 'x'.repeat(40), refreshToken: 'y'.repeat(40) });
    const engine = createSyncEngine({ vault: ws.vault, client: wrong, intervalMs: 50 });
    engine.start();
    await new Promise((r) => setTimeout(r, 300));
    const s = engine.status();
    await engine.stop();
    expect(s.state).toBe('error');
    expect(s.errorCode).toBe('CERT_PIN_MISMATCH');
    expect(s.message).toMatch(/certificate/i);
    expect(s.message).not.toContain(CANARY_FAMILY);
    expect(s.nextAttemptAt).toBeNull();
    expect(s.pendingMutations).toBe(1);
    wrong.close();
  });
});
