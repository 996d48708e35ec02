/**
 * Issue 13, classes 1, 2 and 6 (the push path and the wire's numbers):
 * 1. a replay or conflict answer is authorised and audited like a first request, and matched on
 *    (device, mutation id, record id, payload hash) — any mismatch is refused;
 * 2. nothing is written (not even a new patient row) before the caller is authorised;
 * 6. every number on the wire is bounded to its database column: 400, never 500.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seal } from '../../src-shared/node/envelope';
import { INT4_MAX, ROUTES, type PushResponse, type WireEnvelope } from '../../src-shared/sync';
import { CANARY, DEMO, VARIANTS, call, enrollDevice, login, startTestServer, type TestServer } from './helpers';

const key = randomBytes(32);
const envelope = (patientId: string, recordId: string, version: number): WireEnvelope =>
  seal({ recordId, patientId, resourceType: 'Observation', version, keyId: `${patientId}-kt` }, Buffer.from('{"v":1}'), key) as WireEnvelope;

describe.each(VARIANTS)('push authorisation on $name', (variant) => {
  let server: TestServer;
  let nurse: string;
  let nurseOtherDevice: string;
  let doctor: string;
  let billing: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    const dev = await enrollDevice(server);
    const dev2 = await enrollDevice(server);
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    nurseOtherDevice = (await login(server, DEMO.nurse, dev2.deviceId)).accessToken;
    doctor = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    billing = (await login(server, DEMO.billing, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const push = (token: string, mutations: unknown[]) => call<PushResponse>(server, 'POST', '/v1/sync/push', { token, body: { mutations } });
  const auditRows = (patientId: string) =>
    server.db.query<{ type: string; outcome: string; detail: Record<string, number> }>('SELECT type, outcome, detail FROM server_audit WHERE patient_id = $1 AND type LIKE $2 ORDER BY id', [patientId, 'sync-push%']);

  /** A conflicted mutation of the nurse's own: a record she may see, pushed on a stale base. */
  async function ownConflict(patientId: string): Promise<{ mutationId: string; recordId: string }> {
    const recordId = `obs-${randomUUID()}`;
    await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope(patientId, recordId, 1) }]);
    await push(doctor, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 1, envelope: envelope(patientId, recordId, 2) }]);
    const mutationId = randomUUID();
    const res = await push(nurse, [{ mutationId, op: 'upsert', baseVersion: 1, envelope: envelope(patientId, recordId, 2) }]);
    expect(res.body.results[0]).toMatchObject({ status: 'conflict', serverVersion: 2 });
    return { mutationId, recordId };
  }

  it('a conflicted mutation id re-sent with the restricted patient\'s record id is refused and audited, not answered with its envelope', async () => {
    const { mutationId } = await ownConflict('demo-p-0002');
    const [target] = await server.db.query<{ record_id: string; version: number; resource_type: string }>(
      "SELECT record_id, version, resource_type FROM records WHERE patient_id = 'demo-p-0001' ORDER BY record_id LIMIT 1",
    );
    expect(target).toBeDefined();
    const before = (await auditRows('demo-p-0001')).length;
    const forged = { mutationId, op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0001', target!.record_id, 2) };
    const res = await push(nurse, [forged]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ mutationId, status: 'rejected', code: 'FORBIDDEN', message: expect.any(String) }]);
    expect(res.text).not.toContain(target!.record_id.length > 3 ? '"serverEnvelope"' : '');
    const rows = await auditRows('demo-p-0001');
    expect(rows.length).toBe(before + 1);
    expect(rows.at(-1)).toMatchObject({ type: 'sync-push-refused', outcome: 'denied', detail: { rejected: 1 } });
  });

  it('a known mutation id with another record, another device or another base is refused; the true retry is answered and audited', async () => {
    const { mutationId, recordId } = await ownConflict('demo-p-0003');
    const otherRecord = { mutationId, op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0003', `obs-${randomUUID()}`, 2) };
    const otherBase = { mutationId, op: 'upsert', baseVersion: 2, envelope: envelope('demo-p-0003', recordId, 3) };
    for (const m of [otherRecord, otherBase]) {
      expect((await push(nurse, [m])).body.results[0]).toMatchObject({ status: 'rejected', code: 'CONFLICT' });
    }
    const retry = { mutationId, op: 'upsert', baseVersion: 1, envelope: envelope('demo-p-0003', recordId, 2) };
    expect((await push(nurseOtherDevice, [retry])).body.results[0]).toMatchObject({ status: 'rejected', code: 'CONFLICT' });
    const before = (await auditRows('demo-p-0003')).length;
    // The same device re-sends the same change (re-sealed, as the workstation does): still the conflict, and audited.
    expect((await push(nurse, [retry])).body.results[0]).toMatchObject({ status: 'conflict', serverVersion: 2 });
    const rows = await auditRows('demo-p-0003');
    expect(rows.length).toBe(before + 1);
    expect(rows.at(-1)).toMatchObject({ type: 'sync-push', outcome: 'success', detail: { replays: 1 } });
    // An applied mutation's replay: duplicate from its device (whoever is signed in there), refused from another device.
    const applied = { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0003', `obs-${randomUUID()}`, 1) };
    expect((await push(nurse, [applied])).body.results[0]).toMatchObject({ status: 'applied', version: 1 });
    expect((await push(nurse, [applied])).body.results[0]).toMatchObject({ status: 'duplicate', version: 1 });
    expect((await push(doctor, [applied])).body.results[0]).toMatchObject({ status: 'duplicate', version: 1 });
    expect((await push(nurseOtherDevice, [applied])).body.results[0]).toMatchObject({ status: 'rejected', code: 'CONFLICT' });
  });

  it('a replay of a patient the caller can no longer see is refused like a first request', async () => {
    const recordId = `obs-${randomUUID()}`;
    const m = { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0004', recordId, 1) };
    expect((await push(nurse, [m])).body.results[0]).toMatchObject({ status: 'applied' });
    const teams = await server.db.query<{ team_id: string }>("SELECT team_id FROM care_team_patients WHERE patient_id = 'demo-p-0004'");
    await server.db.query("DELETE FROM care_team_patients WHERE patient_id = 'demo-p-0004'");
    try {
      expect((await push(nurse, [m])).body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    } finally {
      for (const t of teams) await server.db.query("INSERT INTO care_team_patients (team_id, patient_id) VALUES ($1, 'demo-p-0004')", [t.team_id]);
    }
  });

  it('billing pushing a new patient id writes nothing: no patient row, and a clinician can still register it', async () => {
    const patientId = `p-new-${randomUUID()}`;
    const m = { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope(patientId, `obs-${randomUUID()}`, 1) };
    expect((await push(billing, [m])).body.results[0]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    const wrap = await call(server, 'POST', '/v1/keys/wrap', { token: billing, body: { patientId, keyId: `${patientId}-k1`, dataKey: randomBytes(32).toString('base64url') } });
    expect(wrap.status).toBe(403);
    const exists = () => server.db.query('SELECT 1 FROM patients WHERE id = $1', [patientId]);
    expect(await exists()).toHaveLength(0);
    expect(await server.db.query('SELECT 1 FROM records WHERE patient_id = $1 UNION ALL SELECT 1 FROM data_keys WHERE patient_id = $1', [patientId])).toHaveLength(0);
    // The id is not blocked: the treating clinician registers the patient.
    const byNurse = { ...m, mutationId: randomUUID() };
    expect((await push(nurse, [byNurse])).body.results[0]).toMatchObject({ status: 'applied', version: 1 });
    expect(await exists()).toHaveLength(1);
  });

  it('numbers beyond their column are 400 with a PHI-free message, never 500 (baseVersion 2^31 on a conflict)', async () => {
    const recordId = `obs-${randomUUID()}`;
    await push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: envelope('demo-p-0005', recordId, 1) }]);
    const big = 2 ** 31;
    const env = { ...envelope('demo-p-0005', recordId, 1), version: big + 1 };
    const cases = [
      () => push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: big, envelope: env }]),
      () => push(nurse, [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: { ...envelope('demo-p-0005', recordId, 1), version: big } }]),
      () => call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: 'd', entries: [{ seq: 2 ** 53 }] } }),
      () => call(server, 'POST', '/v1/break-glass', { token: nurse, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification: CANARY.name, password: 'x', minutes: big } }),
      () => call(server, 'GET', `/v1/sync/pull?limit=${big}`, { token: nurse }),
      () => call(server, 'GET', `/v1/sync/pull?cursor=s1-t${'9'.repeat(12)}`, { token: nurse }),
    ];
    for (const [i, attempt] of cases.entries()) {
      const res = await attempt();
      expect(res.status, `case ${i}: ${res.text}`).toBe(400);
      expect(res.text).not.toContain(CANARY.name);
      expect(res.text).not.toMatch(/out of range|integer|numeric/i);
    }
    expect(await server.db.query('SELECT 1 FROM conflicts WHERE record_id = $1', [recordId])).toHaveLength(0);
  });
});

/** Every numeric field of every route schema, with its path: each must be an integer bounded to its column. */
function numericFields(schema: z.ZodType, path: string, out: { path: string; min: number; max: number; int: boolean }[]): void {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;
  const walk = (s: unknown, p: string) => numericFields(s as z.ZodType, p, out);
  switch (def.type) {
    case 'number': {
      const n = schema as unknown as z.ZodNumber;
      out.push({ path, min: n.minValue ?? -Infinity, max: n.maxValue ?? Infinity, int: n.isInt });
      return;
    }
    case 'object':
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, `${path}.${k}`);
      return;
    case 'array':
      return walk(def.element, `${path}[]`);
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return walk(def.innerType, path);
    case 'union':
      for (const o of def.options as unknown[]) walk(o, path);
      return;
    case 'record':
      // Free-form detail maps (ids and counts, jsonb): not a column of their own.
      if (path.endsWith('detail')) return;
      return walk(def.valueType, `${path}{}`);
    case 'pipe':
      walk(def.in, path);
      return walk(def.out, path);
    case 'intersection':
      walk(def.left, path);
      return walk(def.right, path);
    default:
  }
}

/** bigint columns (device_audit.seq and what names it): exact in JSON up to 2^53 - 1. */
const BIGINT_FIELDS = /\.(seq|lastSeq)$/;

describe('wire numbers match their columns', () => {
  it('every numeric field of every route schema is an integer within int4 (or, for an audit seq, the bigint range JSON carries)', () => {
    const fields: { path: string; min: number; max: number; int: boolean }[] = [];
    for (const [name, def] of Object.entries(ROUTES)) {
      for (const part of ['body', 'query', 'response'] as const) {
        const s = (def as Record<string, unknown>)[part];
        if (s) numericFields(s as z.ZodType, `${name}.${part}`, fields);
      }
    }
    expect(fields.length).toBeGreaterThan(10);
    const wrong = fields.filter((f) => {
      const top = BIGINT_FIELDS.test(f.path) ? Number.MAX_SAFE_INTEGER : INT4_MAX;
      return !f.int || f.min < -INT4_MAX - 1 || f.max > top;
    });
    expect(wrong.map((f) => `${f.path} [${f.min}, ${f.max}]`)).toEqual([]);
  });
});
