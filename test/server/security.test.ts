/** Hostile input: SQL-injection strings in every string field, oversized and deeply nested bodies, PHI-free errors and logs. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src-shared/sync';
import { CANARY, DEMO, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, type TestServer } from './helpers';

const INJECTIONS = [
  "' OR '1'='1",
  "x'; DROP TABLE users; --",
  "demo-p-0002' UNION SELECT password_hash FROM users --",
  '"; DELETE FROM records; --',
  '\\x00\u0000 $1 ) OR 1=1 --',
];

describe.each(VARIANTS)('security on $name', (variant) => {
  let server: TestServer;
  let nurse: string;
  let admin: string;
  let privacy: string;
  let deviceId: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    deviceId = (await enrollDevice(server)).deviceId;
    nurse = (await login(server, DEMO.nurse, deviceId)).accessToken;
    admin = (await login(server, DEMO.admin, deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const counts = async () => server.db.query('SELECT (SELECT count(*) FROM users)::int AS u, (SELECT count(*) FROM records)::int AS r, (SELECT count(*) FROM patients)::int AS p');

  it('treats SQL-injection strings in every string field as data: 4xx, never 500, nothing changed', async () => {
    const before = await counts();
    const envelope = (patientId: string, recordId: string, keyId: string) => ({ v: 1, recordId, patientId, resourceType: 'Observation', version: 1, keyId, nonce: 'AAAAAAAAAAAAAAAA', ct: 'AAAA', tag: 'AAAAAAAAAAAAAAAAAAAAAA' });
    for (const s of INJECTIONS) {
      const q = encodeURIComponent(s);
      const attempts = [
        call(server, 'POST', '/v1/auth/login', { body: { username: s, password: s, deviceId } }),
        call(server, 'POST', '/v1/auth/login', { body: { username: 'nurse', password: 'x', deviceId: s } }),
        call(server, 'POST', '/v1/auth/refresh', { body: { refreshToken: `${s}aaaaaaaaaaaaaaaa`, deviceId } }),
        call(server, 'POST', '/v1/devices/enroll', { body: { code: `${s}AAAAAAAA`, deviceId: s, publicKey: 'A'.repeat(43), name: s } }),
        call(server, 'POST', '/v1/sync/push', { token: nurse, body: { mutations: [{ mutationId: s, op: 'upsert', baseVersion: 0, envelope: envelope(s, s, s) }] } }),
        call(server, 'GET', `/v1/sync/pull?patientId=${q}`, { token: nurse }),
        call(server, 'GET', `/v1/sync/pull?cursor=${q}`, { token: nurse }),
        call(server, 'POST', '/v1/keys/wrap', { token: nurse, body: { patientId: s, keyId: s, dataKey: 'A'.repeat(43) } }),
        call(server, 'POST', '/v1/keys/unwrap', { token: nurse, body: { patientId: s, keyId: s } }),
        call(server, 'POST', '/v1/break-glass', { token: nurse, body: { patientId: s, reason: 'ETREAT', justification: s.padEnd(20, '.'), password: s } }),
        call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: s, entries: [] } }),
        call(server, 'POST', '/v1/admin/users', { token: admin, body: { username: s, displayName: s, password: s.padEnd(12, 'x'), roles: ['nurse'] } }),
        call(server, 'PUT', `/v1/admin/care-teams/${q}`, { token: admin, body: { name: s, userIds: [s], patientIds: [s] } }),
        call(server, 'POST', `/v1/admin/devices/${q}/revoke`, { token: admin, body: {} }),
        call(server, 'GET', `/v1/privacy/audit?patientId=${q}&userId=${q}&from=${q}`, { token: privacy }),
        call(server, 'POST', `/v1/privacy/alerts/${q}/ack`, { token: privacy, body: { note: s } }),
      ];
      for (const [i, res] of (await Promise.all(attempts)).entries()) {
        expect(res.status, `attempt ${i}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `attempt ${i}: ${res.text}`).toBeLessThan(500);
        expect(res.text).not.toMatch(/argon2|password_hash|syntax error|at .+\.ts:\d+/);
      }
    }
    expect(await counts()).toEqual(before);
    expect((await call(server, 'GET', '/v1/me', { token: nurse })).status).toBe(200);
  });

  it('refuses an oversized body with 413 and a deeply nested one with 400, and keeps serving', async () => {
    const big = await call(server, 'POST', '/v1/sync/push', { token: nurse, raw: `{"mutations":["${'A'.repeat(LIMITS.bodyBytes + 10)}"]}` });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'TOO_LARGE' });
    const deep = await call(server, 'POST', '/v1/sync/push', { token: nurse, raw: `${'['.repeat(50_000)}${']'.repeat(50_000)}` });
    expect(deep.status).toBe(400);
    const tooMany = await call(server, 'POST', '/v1/sync/push', { token: nurse, body: { mutations: Array.from({ length: LIMITS.pushBatch + 1 }, () => ({})) } });
    expect(tooMany.status).toBe(400);
    const malformed = await call(server, 'POST', '/v1/auth/login', { raw: '{"username": ' });
    expect(malformed.status).toBe(400);
    expect((await call(server, 'GET', '/v1/health')).status).toBe(200);
  });

  it('errors carry a code and a PHI-free message, never a stack or the submitted values', async () => {
    const res = await call(server, 'POST', '/v1/keys/unwrap', { token: nurse, body: { patientId: CANARY.mrn, keyId: CANARY.name } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body as object).sort()).toEqual(['code', 'detail', 'message']);
    expect(res.text).not.toContain(CANARY.name);
    expect(res.text).not.toContain('Zebediah');
    expect(res.text).not.toMatch(/\bat\b.*:\d+:\d+/);
    const login = await call(server, 'POST', '/v1/auth/login', { body: { username: CANARY.name, password: CANARY.mrn, deviceId } });
    expect(login.status).toBe(401);
    expect(login.text).not.toContain(CANARY.name);
  });

  it('never writes canary PHI or secrets to the log or the database', async () => {
    await call(server, 'POST', '/v1/auth/login', { body: { username: CANARY.name, password: CANARY.mrn, deviceId } });
    await call(server, 'GET', `/v1/sync/pull?patientId=${encodeURIComponent(CANARY.name)}`, { token: nurse });
    await call(server, 'POST', '/v1/sync/push', { token: nurse, body: { mutations: [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: { resourceType: 'Patient', name: CANARY.name } }] } });
    const logs = JSON.stringify(server.logs);
    expect(server.logs.length).toBeGreaterThan(5);
    for (const secret of [CANARY.name, CANARY.mrn, DEMO.nurse.password, nurse]) expect(logs).not.toContain(secret);
    const db = await dumpDatabaseText(server);
    for (const secret of [CANARY.name, CANARY.mrn, DEMO.nurse.password]) expect(db.includes(secret), secret).toBe(false);
  });

  it('a replayed mutation is answered as a duplicate, never applied twice', async () => {
    const { seal } = await import('../../src-shared/node/envelope');
    const key = Buffer.alloc(32, 9);
    const recordId = `obs-${randomUUID()}`;
    const m = { mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: seal({ recordId, patientId: 'demo-p-0002', resourceType: 'Observation', version: 1, keyId: 'k' }, Buffer.from('{}'), key) };
    await call(server, 'POST', '/v1/sync/push', { token: nurse, body: { mutations: [m] } });
    const seqBefore = await server.db.query('SELECT seq::text AS s, version FROM records WHERE record_id = $1', [recordId]);
    const replay = await call<{ results: unknown[] }>(server, 'POST', '/v1/sync/push', { token: nurse, body: { mutations: [m, m] } });
    expect(replay.body.results).toEqual([
      { mutationId: m.mutationId, status: 'duplicate', version: 1 },
      { mutationId: m.mutationId, status: 'duplicate', version: 1 },
    ]);
    expect(await server.db.query('SELECT seq::text AS s, version FROM records WHERE record_id = $1', [recordId])).toEqual(seqBefore);
  });
});
