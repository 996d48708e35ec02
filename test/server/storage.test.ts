/** One schema on both engines; audit tables append-only; two instances on one PostgreSQL share everything. */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { seal } from '../../src-shared/node/envelope';
import type { PullResponse, PushResponse, TokenResponse } from '../../src-shared/sync';
import { splitStatements } from '../../src-server/db/migrate';
import { DEMO, VARIANTS, call, enrollDevice, freshDatabase, login, startTestServer, type TestServer } from './helpers';

describe('migration script splitting', () => {
  it('splits on semicolons but keeps a function body whole', () => {
    const parts = splitStatements('CREATE TABLE a (x int); CREATE FUNCTION f() RETURNS trigger AS $fn$ BEGIN RAISE; END $fn$; SELECT 1;');
    expect(parts).toHaveLength(3);
    expect(parts[1]).toContain('BEGIN RAISE; END');
  });
});

describe.each(VARIANTS)('storage on $name', (variant) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(variant);
  });
  afterAll(async () => server?.stop());

  it('refuses UPDATE and DELETE on audit tables, as the application role', async () => {
    await server.db.query("INSERT INTO server_audit (type, action, outcome, severity) VALUES ('t', 'E', 'success', 'info')");
    await expect(server.db.query("UPDATE server_audit SET type = 'x'")).rejects.toThrow();
    await expect(server.db.query('DELETE FROM server_audit')).rejects.toThrow();
    await expect(server.db.query('DELETE FROM device_audit')).rejects.toThrow();
    const [{ user }] = (await server.db.query<{ user: string }>('SELECT current_user AS user')) as [{ user: string }];
    expect(user).toBe('ehr_app');
    const [priv] = await server.db.query<{ u: boolean; d: boolean; i: boolean }>(
      "SELECT has_table_privilege('ehr_app', 'server_audit', 'UPDATE') AS u, has_table_privilege('ehr_app', 'device_audit', 'DELETE') AS d, has_table_privilege('ehr_app', 'server_audit', 'INSERT') AS i",
    );
    expect(priv).toEqual({ u: false, d: false, i: true });
  });
});

// PGlite's own data directory (PostgreSQL has no such thing): not a variant, so no empty pass on PostgreSQL.
describe('storage on PGlite only', () => {
  const variant = VARIANTS.find((v) => v.name === 'pglite')!;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(variant);
  });
  afterAll(async () => server?.stop());

  it('refuses a second server on the same PGlite data directory while the first runs', async () => {
    await expect(startTestServer(variant, { dataDir: server.dir })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await server.db.query<{ n: number }>('SELECT 1 AS n'))[0]!.n).toBe(1);
  });

  it('restarts on the same data without re-migrating or re-seeding', async () => {
    const dataDir = server.dir;
    const before = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records');
    await server.close();
    const again = await startTestServer(variant, { dataDir });
    try {
      expect(again.seeded).toBeUndefined();
      expect(await again.db.query<{ n: number }>('SELECT count(*)::int AS n FROM records')).toEqual(before);
      expect(again.fingerprint).toBe(server.fingerprint);
    } finally {
      await again.close();
    }
    server = await startTestServer(variant, { dataDir });
  });
});

describe('two instances on one PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const databaseUrl = await freshDatabase();
    a = await startTestServer({ name: 'postgres' }, { databaseUrl });
    // Same database and the same KEK directory (as two instances behind a load balancer would have).
    b = await startTestServer({ name: 'postgres' }, { databaseUrl, kekDir: `${a.dir}/kek`, seed: 'none' });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('login on A, refresh on B, push on A, pull on B', async () => {
    const dev = await enrollDevice(a);
    const t = await login(a, DEMO.nurse, dev.deviceId);
    const r = await call<TokenResponse>(b, 'POST', '/v1/auth/refresh', { body: { refreshToken: t.refreshToken, deviceId: dev.deviceId } });
    expect(r.status).toBe(200);
    const key = randomBytes(32);
    const recordId = `obs-${randomUUID()}`;
    const env = seal({ recordId, patientId: 'demo-p-0002', resourceType: 'Observation', version: 1, keyId: 'k' }, Buffer.from('{}'), key);
    const pushed = await call<PushResponse>(a, 'POST', '/v1/sync/push', { token: r.body.accessToken, body: { mutations: [{ mutationId: randomUUID(), op: 'upsert', baseVersion: 0, envelope: env }] } });
    expect(pushed.body.results[0]).toMatchObject({ status: 'applied' });
    const pulled = await call<PullResponse>(b, 'GET', '/v1/sync/pull?patientId=demo-p-0002&limit=1000', { token: t.accessToken });
    expect(pulled.status).toBe(200);
    expect(pulled.body.records.map((x) => x.envelope.recordId)).toContain(recordId);
    // A's reuse detection is B's too.
    expect((await call(a, 'POST', '/v1/auth/refresh', { body: { refreshToken: t.refreshToken, deviceId: dev.deviceId } })).status).toBe(401);
    expect((await call(b, 'GET', '/v1/me', { token: r.body.accessToken })).status).toBe(401);
  });

  it('concurrent pushes through both instances: one winner per record, and a cursor reader misses nothing', async () => {
    const dev = await enrollDevice(a);
    const nurse = (await login(a, DEMO.nurse, dev.deviceId)).accessToken;
    const doctor = (await login(b, DEMO.doctor, dev.deviceId)).accessToken;
    const key = randomBytes(32);
    const env = (recordId: string, version: number) => seal({ recordId, patientId: 'demo-p-0003', resourceType: 'Observation', version, keyId: 'k' }, Buffer.from('{}'), key);
    const pushVia = (srv: TestServer, token: string, recordId: string, baseVersion: number) =>
      call<PushResponse>(srv, 'POST', '/v1/sync/push', { token, body: { mutations: [{ mutationId: randomUUID(), op: 'upsert', baseVersion, envelope: env(recordId, baseVersion + 1) }] } });

    // Same record, same base version, through A and B at once: exactly one applies.
    const contested = `obs-${randomUUID()}`;
    await pushVia(a, nurse, contested, 0);
    const race = await Promise.all([pushVia(a, nurse, contested, 1), pushVia(b, doctor, contested, 1), pushVia(a, nurse, contested, 1)]);
    expect(race.map((r) => r.body.results[0]!.status).sort()).toEqual(['applied', 'conflict', 'conflict']);

    // Many writers on both instances while a reader follows the cursor: every record is seen.
    let cursor = '';
    const seen = new Set<string>();
    const follow = async () => {
      const res = await call<PullResponse>(b, 'GET', `/v1/sync/pull?patientId=demo-p-0003&limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { token: doctor });
      for (const r of res.body.records) seen.add(r.envelope.recordId);
      cursor = res.body.nextCursor;
    };
    const written = Array.from({ length: 24 }, () => `obs-${randomUUID()}`);
    await Promise.all([
      ...written.map((id, i) => pushVia(i % 2 ? a : b, i % 2 ? nurse : doctor, id, 0)),
      (async () => {
        for (let i = 0; i < 8; i++) await follow();
      })(),
    ]);
    await follow();
    for (const id of written) expect(seen.has(id), id).toBe(true);
  });

  it('the owner connection can still see the audit rows the application role cannot change', async () => {
    const client = new pg.Client({ connectionString: a.databaseUrl });
    await client.connect();
    try {
      await client.query('SET ROLE ehr_app');
      await expect(client.query("UPDATE server_audit SET type = 'x'")).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });
});
