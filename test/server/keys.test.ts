/** Key service: wrap/unwrap by access, every access audited, KEK file apart and private, rotation re-wraps only keys. */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync, chmodSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnwrapKeyResponse } from '../../src-shared/sync';
import { FileKeyProvider } from '../../src-server/keys/key-provider';
import { DEMO, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe('FileKeyProvider', () => {
  it('refuses a KEK file readable by others', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kek-'));
    new FileKeyProvider(dir);
    const file = readdirSync(dir).find((f) => f.startsWith('kek-'))!;
    chmodSync(join(dir, file), 0o644);
    expect(() => new FileKeyProvider(dir)).toThrow(/permissions/);
  });

  it('fails a wrapped key with the wrong purpose or a flipped byte (INTEGRITY)', async () => {
    const kp = new FileKeyProvider(mkdtempSync(join(tmpdir(), 'kek-')));
    const wrapped = await kp.wrap(Buffer.alloc(32, 1), 'data-key|p1|k1');
    await expect(kp.unwrap(wrapped, 'data-key|p2|k1')).rejects.toMatchObject({ code: 'INTEGRITY' });
    const parts = wrapped.split('.');
    const ct = Buffer.from(parts[2]!, 'base64url');
    ct[0]! ^= 1;
    parts[2] = ct.toString('base64url');
    await expect(kp.unwrap(parts.join('.'), 'data-key|p1|k1')).rejects.toMatchObject({ code: 'INTEGRITY' });
    expect(await kp.unwrap(wrapped, 'data-key|p1|k1')).toEqual(Buffer.alloc(32, 1));
  });
});

describe.each(VARIANTS)('key service on $name', (variant) => {
  let server: TestServer;
  let nurse: string;
  let doctor2: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    const dev = await enrollDevice(server);
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    doctor2 = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const wrap = (token: string, patientId: string, keyId: string, dataKey: Buffer) =>
    call(server, 'POST', '/v1/keys/wrap', { token, body: { patientId, keyId, dataKey: dataKey.toString('base64url') } });
  const unwrap = (token: string, patientId: string, keyId?: string) =>
    call<UnwrapKeyResponse>(server, 'POST', '/v1/keys/unwrap', { token, body: { patientId, ...(keyId ? { keyId } : {}) } });

  it('wraps a client key and unwraps it for a care-team member; the DB holds it only wrapped', async () => {
    const dk = randomBytes(32);
    const keyId = `k-${randomUUID()}`;
    expect((await wrap(nurse, 'demo-p-0005', keyId, dk)).status).toBe(200);
    expect((await wrap(nurse, 'demo-p-0005', keyId, dk)).status).toBe(200); // idempotent
    expect((await wrap(nurse, 'demo-p-0005', keyId, randomBytes(32))).status).toBe(409);
    const res = await unwrap(nurse, 'demo-p-0005', keyId);
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body.keys[0]!.dataKey, 'base64url')).toEqual(dk);
    const db = await dumpDatabaseText(server);
    expect(db).not.toContain(dk.toString('base64url'));
    expect(db).not.toContain(dk.toString('hex'));
    const audit = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'key-access' AND patient_id = 'demo-p-0005'");
    expect(audit.length).toBeGreaterThan(0);
  });

  it('IDOR: unwrap (or wrap) for a patient outside the care team is 403 and audited', async () => {
    const res = await unwrap(doctor2, 'demo-p-0002');
    expect(res.status).toBe(403);
    const denied = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'access-denied' AND patient_id = 'demo-p-0002' AND detail->>'route' = 'keys/unwrap'");
    expect(denied.length).toBe(1);
    expect((await wrap(doctor2, 'demo-p-0002', 'k-evil', randomBytes(32))).status).toBe(403);
  });

  it('batch unwrap: keys of visible patients in one call, others refused per patient and audited like single unwraps', async () => {
    const [own] = await server.db.query<{ key_id: string }>("SELECT key_id FROM data_keys WHERE patient_id = 'demo-p-0006' ORDER BY created_at LIMIT 1");
    const [other] = await server.db.query<{ key_id: string }>("SELECT key_id FROM data_keys WHERE patient_id = 'demo-p-0002' ORDER BY created_at LIMIT 1");
    const single = await unwrap(doctor2, 'demo-p-0002', other!.key_id);
    expect(single.status).toBe(403);
    const viaNurse = (await unwrap(nurse, 'demo-p-0006', own!.key_id)).body.keys[0]!;
    const res = await call<{ keys: { patientId: string; keyId: string; dataKey: string }[]; refused: { patientId: string; keyId: string; code: string }[] }>(
      server, 'POST', '/v1/keys/unwrap-batch',
      { token: nurse, body: { keys: [{ patientId: 'demo-p-0006', keyId: own!.key_id }, { patientId: 'demo-p-0006', keyId: 'k-none' }, { patientId: 'demo-p-0001', keyId: 'k-x' }, { patientId: 'demo-p-0006', keyId: own!.key_id }] } },
    );
    expect(res.status).toBe(200);
    expect(res.body.keys).toEqual([{ patientId: 'demo-p-0006', keyId: own!.key_id, dataKey: viaNurse.dataKey, createdAt: viaNurse.createdAt }]);
    // demo-p-0001 is the restricted patient on no care team: refused, never unwrapped.
    expect(res.body.refused).toEqual([{ patientId: 'demo-p-0006', keyId: 'k-none', code: 'NOT_FOUND' }, { patientId: 'demo-p-0001', keyId: 'k-x', code: 'FORBIDDEN' }]);
    const denied = await server.db.query("SELECT severity FROM server_audit WHERE type = 'access-denied' AND patient_id = 'demo-p-0001' AND detail->>'route' = 'keys/unwrap-batch'");
    expect(denied).toEqual([{ severity: 'high' }]);
    const access = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'key-access' AND patient_id = 'demo-p-0006' AND detail->>'batch' = 'true'");
    expect(access.length).toBe(1);
    // IDOR the other way round: doctor2 gets nothing of ward A's patient.
    const idor = await call<{ keys: unknown[]; refused: { code: string }[] }>(server, 'POST', '/v1/keys/unwrap-batch', { token: doctor2, body: { keys: [{ patientId: 'demo-p-0002', keyId: other!.key_id }] } });
    expect(idor.body.keys).toEqual([]);
    expect(idor.body.refused.map((r) => r.code)).toEqual(['FORBIDDEN']);
  });

  it('batch unwrap refuses an oversized, empty or malformed batch (400) and an anonymous caller (401)', async () => {
    const many = Array.from({ length: 2001 }, (_, i) => ({ patientId: 'demo-p-0006', keyId: `k-${i}` }));
    expect((await call(server, 'POST', '/v1/keys/unwrap-batch', { token: nurse, body: { keys: many } })).status).toBe(400);
    expect((await call(server, 'POST', '/v1/keys/unwrap-batch', { token: nurse, body: { keys: [] } })).status).toBe(400);
    expect((await call(server, 'POST', '/v1/keys/unwrap-batch', { token: nurse, body: { keys: [{ patientId: "x' OR 1=1 --", keyId: 'k' }] } })).status).toBe(400);
    expect((await call(server, 'POST', '/v1/keys/unwrap-batch', { body: { keys: [{ patientId: 'demo-p-0006', keyId: 'k' }] } })).status).toBe(401);
  });

  it('keeps the KEK out of the database, in its own 0700 directory with a 0600 file', async () => {
    const kekDir = join(server.dir, 'kek');
    expect(statSync(kekDir).mode & 0o077).toBe(0);
    const files = readdirSync(kekDir).filter((f) => f.startsWith('kek-'));
    expect(files.length).toBe(1);
    const kek = readFileSync(join(kekDir, files[0]!));
    expect(kek.length).toBe(32);
    expect(statSync(join(kekDir, files[0]!)).mode & 0o077).toBe(0);
    const db = await dumpDatabaseText(server);
    expect(db).not.toContain(kek.toString('base64url'));
    expect(db).not.toContain(kek.toString('hex'));
  });

  it('KEK rotation re-wraps every data key and server secret without touching a record', async () => {
    const recordsBefore = await server.db.query('SELECT record_id, ct, tag, nonce, version, seq::text FROM records ORDER BY record_id');
    const keysBefore = await server.db.query<{ patient_id: string; key_id: string; wrapped: string }>('SELECT patient_id, key_id, wrapped FROM data_keys ORDER BY 1, 2');
    const plainBefore = (await unwrap(nurse, 'demo-p-0003')).body.keys;
    const report = await server.rotateKek();
    expect(report.dataKeys).toBe(keysBefore.length);
    expect(report.oldKekIds.length).toBe(1);
    const keysAfter = await server.db.query<{ wrapped: string }>('SELECT wrapped FROM data_keys ORDER BY patient_id, key_id');
    expect(keysAfter.every((k) => k.wrapped.startsWith(`${report.newKekId}.`))).toBe(true);
    expect(keysAfter.map((k) => k.wrapped)).not.toEqual(keysBefore.map((k) => k.wrapped));
    expect(await server.db.query('SELECT record_id, ct, tag, nonce, version, seq::text FROM records ORDER BY record_id')).toEqual(recordsBefore);
    // The old KEK file is gone; keys still unwrap to the same bytes; tokens (server secret) still verify.
    expect(readdirSync(join(server.dir, 'kek')).filter((f) => f.startsWith('kek-'))).toEqual([`kek-${report.newKekId}.key`]);
    const after = await unwrap(nurse, 'demo-p-0003');
    expect(after.status).toBe(200);
    expect(after.body.keys).toEqual(plainBefore);
    const audited = await server.db.query<{ severity: string }>("SELECT severity FROM server_audit WHERE type = 'kek-rotated'");
    expect(audited).toEqual([{ severity: 'high' }]);
  });

  it('a tampered wrapped key fails closed with a PHI-free INTEGRITY error', async () => {
    const [row] = await server.db.query<{ key_id: string; wrapped: string }>("SELECT key_id, wrapped FROM data_keys WHERE patient_id = 'demo-p-0004'");
    const parts = row!.wrapped.split('.');
    parts[2] = Buffer.from(Buffer.from(parts[2]!, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url');
    await server.db.query("UPDATE data_keys SET wrapped = $1 WHERE patient_id = 'demo-p-0004'", [parts.join('.')]);
    try {
      const res = await unwrap(nurse, 'demo-p-0004');
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'INTEGRITY' });
      expect(res.text).not.toMatch(/at .*\.ts|stack/);
    } finally {
      await server.db.query("UPDATE data_keys SET wrapped = $1 WHERE patient_id = 'demo-p-0004'", [row!.wrapped]);
    }
    expect((await unwrap(nurse, 'demo-p-0004')).status).toBe(200);
  });
});
