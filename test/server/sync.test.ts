/** Push/pull over the real HTTPS server: idempotency, conflicts, pagination, care-team scoping, plaintext refusal. */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal, open } from '../../src-shared/node/envelope';
import { PullResponseSchema, PushResponseSchema, type PullResponse, type PushResponse, type WireEnvelope } from '../../src-shared/sync';
import { CANARY, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, DEMO, type TestServer } from './helpers';

const key = randomBytes(32);
function envelope(patientId: string, recordId: string, version: number, resource: unknown): WireEnvelope {
  return seal({ recordId, patientId, resourceType: 'Observation', version, keyId: `${patientId}-kt` }, Buffer.from(JSON.stringify(resource)), key) as WireEnvelope;
}

describe.each(VARIANTS)('sync on $name', (variant) => {
  let server: TestServer;
  let nurse: string;
  let doctor: string;
  let doctor2: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    const dev = await enrollDevice(server);
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    doctor = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    doctor2 = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const push = (token: string, mutations: unknown[]) => call<PushResponse>(server, 'POST', '/v1/sync/push', { token, body: { mutations } });
  const pull = (token: string, q = '') => call<PullResponse>(server, 'GET', `/v1/sync/pull${q}`, { token });

  it('applies a push, answers a replayed mutation as duplicate, and pulls the record back intact', async () => {
    const recordId = `obs-${randomUUID()}`;
    const m = { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0002', recordId, 1, { resourceType: 'Observation', note: CANARY.name }) };
    const first = await push(nurse, [m]);
    expect(first.status).toBe(200);
    expect(PushResponseSchema.parse(first.body).results).toEqual([{ mutationId: m.mutationId, status: 'applied', version: 1 }]);
    const again = await push(nurse, [m]);
    expect(again.body.results).toEqual([{ mutationId: m.mutationId, status: 'duplicate', version: 1 }]);
    const pulled = await pull(doctor, '?patientId=demo-p-0002&limit=1000');
    expect(pulled.status).toBe(200);
    const rec = PullResponseSchema.parse(pulled.body).records.find((r) => r.envelope.recordId === recordId)!;
    expect(rec.meta.deleted).toBe(false);
    expect(JSON.parse(open(rec.envelope, key).toString()).note).toBe(CANARY.name);
    // The server holds the envelope only.
    expect(await dumpDatabaseText(server)).not.toContain(CANARY.name);
  });

  it('a delete is a sealed tombstone: pulled as deleted, with the next version', async () => {
    const recordId = `obs-${randomUUID()}`;
    await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0006', recordId, 1, { v: 1 }) }]);
    const del = await push(nurse, [{ mutationId: randomUUID(), op: 'delete', baseVersion: 1, envelope: envelope('demo-p-0006', recordId, 2, { deleted: true }) }]);
    expect(del.body.results[0]).toMatchObject({ status: 'applied', version: 2 });
    const rec = (await pull(doctor, '?patientId=demo-p-0006&limit=1000')).body.records.find((r) => r.envelope.recordId === recordId)!;
    expect(rec.meta.deleted).toBe(true);
    expect(rec.envelope.version).toBe(2);
  });

  it('reports a conflict on a stale base version, keeps both versions and overwrites nothing', async () => {
    const recordId = `obs-${randomUUID()}`;
    await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0003', recordId, 1, { v: 'a' }) }]);
    const winner = await push(doctor, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0003', recordId, 2, { v: 'doctor' }) }]);
    expect(winner.body.results[0]).toMatchObject({ status: 'applied', version: 2 });
    const loserId = randomUUID();
    const loser = await push(nurse, [{ mutationId: loserId, op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0003', recordId, 2, { v: 'nurse' }) }]);
    const result = loser.body.results[0]!;
    expect(result.status).toBe('conflict');
    if (result.status !== 'conflict') return;
    expect(result.serverVersion).toBe(2);
    expect(JSON.parse(open(result.serverEnvelope, key).toString())).toEqual({ v: 'doctor' });
    const kept = await server.db.query<{ envelope: WireEnvelope }>('SELECT envelope FROM conflicts WHERE mutation_id = $1', [loserId]);
    expect(JSON.parse(open(kept[0]!.envelope, key).toString())).toEqual({ v: 'nurse' });
    // Retrying the losing mutation is still a conflict (not "duplicate", which would mean applied), stored once.
    const retry = await push(nurse, [{ mutationId: loserId, op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0003', recordId, 2, { v: 'nurse' }) }]);
    expect(retry.body.results[0]).toMatchObject({ status: 'conflict', serverVersion: 2 });
    expect(await server.db.query('SELECT 1 FROM conflicts WHERE mutation_id = $1', [loserId])).toHaveLength(1);
  });

  it('pages with a resumable cursor: every visible record exactly once, total stable', async () => {
    const ids = Array.from({ length: 7 }, () => `obs-${randomUUID()}`);
    await push(nurse, ids.map((id) => ({ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0004', id, 1, {}) })));
    const seen: string[] = [];
    let cursor = '';
    let total = -1;
    for (let page = 0; page < 100; page++) {
      const res = await pull(nurse, `?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.records.map((r) => r.envelope.recordId));
      total = res.body.total;
      cursor = res.body.nextCursor;
      if (!res.body.hasMore) break;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(total);
    for (const id of ids) expect(seen).toContain(id);
    // Resuming from the final cursor yields nothing new.
    const after = await pull(nurse, `?cursor=${cursor}`);
    expect(after.body.records).toEqual([]);
  });

  it('counts the progress total once per pull (first page) and carries it in the cursor; the next pull counts afresh', async () => {
    const ids = Array.from({ length: 6 }, () => `obs-${randomUUID()}`);
    await push(nurse, ids.map((id) => ({ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0007', id, 1, {}) })));
    const first = await pull(nurse, '?patientId=demo-p-0007&limit=2');
    expect(first.body.hasMore).toBe(true);
    const total = first.body.total;
    expect(total).toBeGreaterThanOrEqual(6);
    expect(first.body.nextCursor).toMatch(new RegExp(`^s\\d+-t${total}$`));
    // Records written mid-pull do not change the total of this pull (no recount per page)…
    const late = Array.from({ length: 3 }, () => `obs-${randomUUID()}`);
    await push(nurse, late.map((id) => ({ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0007', id, 1, {}) })));
    let cursor = first.body.nextCursor;
    const seen = first.body.records.map((r) => r.envelope.recordId);
    for (let page = 0; page < 50; page++) {
      const res = await pull(nurse, `?patientId=demo-p-0007&limit=2&cursor=${cursor}`);
      expect(res.body.total).toBe(total);
      seen.push(...res.body.records.map((r) => r.envelope.recordId));
      cursor = res.body.nextCursor;
      if (!res.body.hasMore) break;
    }
    // …but they are delivered, each once, and the last cursor carries no total.
    for (const id of [...ids, ...late]) expect(seen.filter((s) => s === id)).toHaveLength(1);
    expect(cursor).toMatch(/^s\d+$/);
    // The next pull from there counts what it brings.
    const more = `obs-${randomUUID()}`;
    await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0007', more, 1, {}) }]);
    const next = await pull(nurse, `?patientId=demo-p-0007&cursor=${cursor}`);
    expect(next.body.records.map((r) => r.envelope.recordId)).toEqual([more]);
    expect(next.body.total).toBe(1);
    // A forged total in the cursor changes nothing but the echoed progress figure.
    const forged = await pull(doctor2, `?cursor=s0-t999999`);
    expect(forged.status).toBe(200);
    for (const r of forged.body.records) expect(['demo-p-0010', 'demo-p-0011', 'demo-p-0012']).toContain(r.envelope.patientId);
    expect((await pull(nurse, '?cursor=s1-tx')).status).toBe(400);
  });

  it('pulls only care-team patients: doctor2 (ward B) never receives ward A records', async () => {
    const res = await pull(doctor2, '?limit=1000');
    const patients = new Set(res.body.records.map((r) => r.envelope.patientId));
    expect(patients.size).toBeGreaterThan(0);
    for (const p of patients) expect(['demo-p-0010', 'demo-p-0011', 'demo-p-0012']).toContain(p);
  });

  it('IDOR: pulling a patient outside the care team is 403 and audited', async () => {
    const res = await pull(doctor2, '?patientId=demo-p-0002');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'FORBIDDEN' });
    const audit = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'access-denied' AND patient_id = 'demo-p-0002'");
    expect(audit.length).toBeGreaterThan(0);
  });

  it('rejects a push for a known patient outside the care team, without storing it', async () => {
    const recordId = `obs-${randomUUID()}`;
    const res = await push(doctor2, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0002', recordId, 1, {}) }]);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    expect(await server.db.query('SELECT 1 FROM records WHERE record_id = $1', [recordId])).toEqual([]);
  });

  it('refuses plaintext PHI with 400, an audit entry and a privacy alert; nothing stored', async () => {
    const fhir = { resourceType: 'Patient', id: 'p-canary', name: [{ text: CANARY.name }], identifier: [{ value: CANARY.mrn }] };
    const res = await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: fhir }]);
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(CANARY.name);
    expect(res.text).not.toContain(CANARY.mrn);
    const audit = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'plaintext-refused'");
    expect(audit.length).toBeGreaterThan(0);
    const alerts = await server.db.query("SELECT 1 FROM alerts WHERE kind = 'plaintext-refused'");
    expect(alerts.length).toBeGreaterThan(0);
    // An envelope with an extra clinical field is refused too.
    const sneaky = { ...envelope('demo-p-0002', `obs-${randomUUID()}`, 1, {}), name: CANARY.name };
    expect((await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: sneaky }])).status).toBe(400);
    // A well-formed envelope whose "ciphertext" is just base64url of the resource is refused too.
    const unsealed = { ...envelope('demo-p-0002', `obs-${randomUUID()}`, 1, {}), ct: Buffer.from(JSON.stringify(fhir)).toString('base64url') };
    expect((await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: unsealed }])).status).toBe(400);
    expect(await server.db.query('SELECT 1 FROM records WHERE record_id = $1', [unsealed.recordId])).toEqual([]);
    const text = await dumpDatabaseText(server);
    expect(text).not.toContain(CANARY.name);
    expect(text).not.toContain(CANARY.mrn);
    expect(JSON.stringify(server.logs)).not.toContain(CANARY.name);
  });

  it('requires the audit correlation header on PHI routes (403)', async () => {
    const res = await call(server, 'GET', '/v1/sync/pull', { token: nurse, correlation: false });
    expect(res.status).toBe(403);
    const res2 = await call(server, 'POST', '/v1/sync/push', { token: nurse, correlation: false, body: { mutations: [] } });
    expect(res2.status).toBe(403);
  });

  it('rejects an envelope whose version does not follow its base version', async () => {
    const res = await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0002', `obs-${randomUUID()}`, 5, {}) }]);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', code: 'INVALID' });
  });

  it('registers a patient new to the server onto the author\'s care team', async () => {
    const patientId = `p-new-${randomUUID()}`;
    const res = await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope(patientId, `obs-${randomUUID()}`, 1, {}) }]);
    expect(res.body.results[0]).toMatchObject({ status: 'applied' });
    expect((await pull(doctor, `?patientId=${patientId}`)).body.records).toHaveLength(1);
    expect((await pull(doctor2, `?patientId=${patientId}`)).status).toBe(403);
  });
});
