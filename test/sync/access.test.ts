/**
 * Access ends, keys go: a care-team change drops that patient's data keys from the workstation;
 * a device revoked mid-session drops every key and stops sync. A patient created on this
 * workstation gets a fresh key that is wrapped on the server before its first record is pushed,
 * so a colleague on the care team can read it. The audit chain is pushed in order, and a refusal
 * is surfaced — never dropped or rewritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import { ADMIN, CANARY_FAMILY, CANARY_GIVEN, CANARY_MRN, DOCTOR, NURSE, cleanupAll, makeWorkstation, note, saveLocally, startTestServer, type TestServer, type Workstation } from './helpers/harness';

let server: TestServer;
let admin: Workstation;
beforeAll(async () => {
  server = await startTestServer({ demoPatients: 8 });
  admin = await makeWorkstation(server, ADMIN);
});
afterAll(cleanupAll);

function keyCount(ws: Workstation, patientId?: string): number {
  const row = patientId
    ? ws.vault.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM data_keys WHERE patient_id = ?').get(patientId)
    : ws.vault.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM data_keys').get();
  return row?.n ?? 0;
}

describe('keys follow access', () => {
  it('a care-team change removes the patient\'s keys from the workstation, and only theirs', async () => {
    const ws = await makeWorkstation(server, DOCTOR);
    await ws.engine.syncNow();
    // Ward A with 8 demo patients: demo-p-0002 .. demo-p-0006.
    expect(keyCount(ws, 'demo-p-0002')).toBe(1);
    expect(keyCount(ws, 'demo-p-0003')).toBe(1);
    const teams = (await admin.client.call({ method: 'GET', path: '/v1/admin/care-teams', auth: true })) as { teams: { id: string; name: string; userIds: string[]; patientIds: string[] }[] };
    const wardA = teams.teams.find((t) => t.id === 'team-ward-a')!;
    await admin.client.call({
      method: 'PUT', path: '/v1/admin/care-teams/team-ward-a', auth: true,
      body: { name: wardA.name, userIds: wardA.userIds, patientIds: wardA.patientIds.filter((p) => p !== 'demo-p-0002') },
    });
    const s = await ws.engine.syncNow();
    expect(s.state).toBe('idle');
    expect(keyCount(ws, 'demo-p-0002')).toBe(0);
    expect(keyCount(ws, 'demo-p-0003')).toBe(1);
    // Restore for the other tests.
    await admin.client.call({ method: 'PUT', path: '/v1/admin/care-teams/team-ward-a', auth: true, body: { name: wardA.name, userIds: wardA.userIds, patientIds: wardA.patientIds } });
  });

  it('a device revoked mid-session loses every key, stops syncing, and keeps its queued work', async () => {
    const ws = await makeWorkstation(server, NURSE);
    await ws.engine.syncNow();
    expect(keyCount(ws)).toBeGreaterThan(0);
    saveLocally(ws.vault, note('revoked-note', 'demo-p-0003', 'written before the revocation'), 'demo-p-0003', 'u-nurse');
    await admin.client.call({ method: 'POST', path: `/v1/admin/devices/${ws.vault.device.deviceId}/revoke`, auth: true, body: {} });
    const first = await ws.engine.syncNow();
    // The server revokes the device's token families with it; until it names the device in that
    // answer the engine can only tell "signed out" — the next sign-in attempt names it.
    if (first.errorCode !== 'DEVICE_REVOKED') {
      expect(first.state).toBe('disabled');
      const login = await ws.client.login(NURSE).catch((e: unknown) => e);
      expect((login as { code: string }).code).toBe('FORBIDDEN');
    }
    const s = ws.engine.status();
    expect(s.state).toBe('error');
    expect(s.errorCode).toBe('DEVICE_REVOKED');
    expect(s.message).toMatch(/revoked/i);
    expect(s.nextAttemptAt).toBeNull();
    expect(keyCount(ws)).toBe(0);
    // Sticky: no further sync, keys are not fetched again.
    expect((await ws.engine.syncNow()).errorCode).toBe('DEVICE_REVOKED');
    expect(keyCount(ws)).toBe(0);
    // The change is not lost: it stays in the encrypted outbox for IT to recover.
    expect(s.pendingMutations).toBe(1);
  });
});

describe('break-glass', () => {
  it('a granted patient\'s keys are cached with the grant\'s expiry and dropped when it ends, even offline', async () => {
    let clock: Date | null = null;
    const ws = await makeWorkstation(server, DOCTOR, { now: () => clock ?? new Date() });
    const outside = 'demo-p-0007'; // Ward B: not on the doctor's care team
    await ws.engine.syncNow();
    expect(keyCount(ws, outside)).toBe(0);
    const { grant } = await ws.client.breakGlass({ patientId: outside, reason: 'ETREAT', justification: 'Unconscious on arrival, chart needed now', password: DOCTOR.password, minutes: 30 });
    await ws.engine.syncNow();
    expect(ws.vault.resources.listByPatient(outside).length).toBeGreaterThan(0);
    const cached = ws.vault.db.prepare<[string], { expires_at: string | null }>('SELECT expires_at FROM data_keys WHERE patient_id = ?').all(outside);
    expect(cached.length).toBeGreaterThan(0);
    expect(cached.every((k) => k.expires_at === grant.expiresAt)).toBe(true);
    // The grant ends while the workstation is offline: the key is unusable and purged anyway.
    clock = new Date(Date.parse(grant.expiresAt) + 1000);
    expect(ws.engine.keys.cachedKey(outside)).toBeNull();
    await server.close();
    const offline = await ws.engine.syncNow();
    expect(offline.state).toBe('offline');
    expect(keyCount(ws, outside)).toBe(0);
    expect(keyCount(ws, 'demo-p-0002')).toBe(1);
    server = await server.restart();
  });
});

describe('a patient registered on this workstation', () => {
  it('gets a fresh data key, wrapped before the first push, readable by a colleague on the care team', async () => {
    const a = await makeWorkstation(server, DOCTOR);
    const b = await makeWorkstation(server, NURSE);
    await a.engine.syncNow();
    const patientId = 'new-p-canary';
    const key = a.engine.keys.createForNewPatient(patientId);
    expect(a.engine.keys.hasPendingWrap(patientId)).toBe(true);
    const patient: Patient & { id: string } = {
      resourceType: 'Patient', id: patientId, name: [{ family: CANARY_FAMILY, given: [CANARY_GIVEN] }],
      identifier: [{ value: CANARY_MRN }], birthDate: '1970-01-01',
    };
    saveLocally(a.vault, patient, patientId);
    saveLocally(a.vault, note('new-p-note', patientId, `${CANARY_GIVEN} first visit`), patientId);
    const s = await a.engine.syncNow();
    expect(s.pendingMutations).toBe(0);
    expect(a.engine.keys.hasPendingWrap(patientId)).toBe(false);
    // The key kept its id and the server holds it only wrapped.
    const wrapped = await server.db.query<{ key_id: string; wrapped: string }>('SELECT key_id, wrapped FROM data_keys WHERE patient_id = $1', [patientId]);
    expect(wrapped.map((w) => w.key_id)).toEqual([key.keyId]);
    expect(wrapped[0]!.wrapped).not.toContain(key.key.toString('base64url'));
    // The nurse (same care team) pulls and reads it, and can find the patient by name.
    await b.engine.syncNow();
    expect(b.vault.resources.get(patientId)?.resource).toMatchObject({ name: [{ family: CANARY_FAMILY }] });
    expect(b.vault.patients.search({ name: 'zeb canary' }).map((p) => p.id)).toContain(patientId);
    // Nothing readable on the server.
    const dump = JSON.stringify(await server.db.query('SELECT * FROM records WHERE patient_id = $1', [patientId]));
    expect(dump).not.toContain(CANARY_FAMILY);
    expect(dump).not.toContain(CANARY_MRN);
    expect(server.logs.join('\n')).not.toMatch(/Canarywhistle|CANARY-MRN-0042|Zebediah/);
  });
});

describe('audit queue', () => {
  it('pushes the chain in order; a refused entry is surfaced and kept, never dropped or rewritten', async () => {
    const ws = await makeWorkstation(server, DOCTOR);
    saveLocally(ws.vault, note('audit-1', 'demo-p-0004', 'a'), 'demo-p-0004');
    saveLocally(ws.vault, note('audit-2', 'demo-p-0004', 'b'), 'demo-p-0004');
    let s = await ws.engine.syncNow();
    expect(s.audit).toEqual({ pending: 0, rejected: null, quarantined: 0 });
    const onServer = await server.db.query<{ seq: string }>('SELECT seq::text AS seq FROM device_audit WHERE device_id = $1 ORDER BY seq', [ws.vault.device.deviceId]);
    expect(onServer.map((r) => Number(r.seq))).toEqual([1, 2]);

    // A forged entry lands in the local log (say, malware with file access but not the device key).
    const head = ws.vault.audit.head()!;
    const forged = { ...ws.vault.audit.list({ afterSeq: head.seq - 1 })[0]!, seq: head.seq + 1, prevHash: head.hash, type: 'read' as const, hash: 'f'.repeat(64) };
    ws.vault.db.prepare('INSERT INTO audit_log (seq, hash, at, type, patient_id, entry) VALUES (?, ?, ?, ?, ?, ?)')
      .run(forged.seq, forged.hash, forged.at, forged.type, forged.patientId ?? null, JSON.stringify(forged));
    saveLocally(ws.vault, note('audit-3', 'demo-p-0004', 'c'), 'demo-p-0004');
    s = await ws.engine.syncNow();
    expect(s.state).toBe('error');
    expect(s.audit.rejected).toMatchObject({ reason: 'edit', seq: head.seq + 1 });
    expect(s.audit.pending).toBe(2);
    expect(s.message).toMatch(/audit/i);
    expect(s.pendingMutations).toBe(0); // clinical sync carried on
    // Kept as it was: the local log still holds both entries, unchanged.
    expect(ws.vault.audit.count()).toBe(4);
    expect(ws.vault.audit.list({ afterSeq: head.seq }).map((e) => e.hash)[0]).toBe('f'.repeat(64));
    // And it is refused again next time, not skipped.
    s = await ws.engine.syncNow();
    expect(s.audit.pending).toBe(2);
  });
});
