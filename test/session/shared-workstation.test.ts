/**
 * A shared workstation: a Ward A nurse and a Ward B nurse take turns on one workstation (real sync
 * server over pinned TLS, real keychain). The vault keeps both wards' charts (the union of their
 * scopes), yet each nurse reads only her own patients; switching back needs no re-pull (only what
 * changed meanwhile arrives, including a colleague's write made while the other nurse was syncing);
 * with the server gone, the other nurse still switches in offline and finds her charts; drafts stay
 * per user. "Data as of" is the server's time of the last complete pull.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { AuditRow } from '../../src-shared/sync';
import type { DraftSummary, PatientPage, RecordView, SessionStatus, SyncStatus } from '../../src-shared/api';
import { createKeytarKeyStore, type KeyStore } from '../../src-main/core/keychain';
import type { Workstation } from '../../src-main/core/workstation';
import { vitals } from '../access/harness';
import { DEMO, call, enrollDevice, login } from '../server/helpers';
import { forgetWorkstationKeys, ok, relay, startEnrolledWorkstation, tempDirs } from './real-stack';

const NURSE_A = DEMO.nurse;
const NURSE_B = { username: 'nurse.b', password: 'ward-b-nurse-2026' };
const WARD_A = ['demo-p-0002', 'demo-p-0003', 'demo-p-0004', 'demo-p-0005', 'demo-p-0006', 'demo-p-0007', 'demo-p-0008'];
const WARD_B = ['demo-p-0009', 'demo-p-0010'];

let server: RunningServer;
let link: ReturnType<typeof relay>;
let ws: Workstation;
let other: Workstation;
let keyStore: KeyStore;
let privacyToken: string;
const dirs = tempDirs();

async function mine(): Promise<string[]> {
  return (await ok<PatientPage>(ws.invoke('patients.mine', { limit: 100 }))).patients.map((p) => p.id).sort();
}

/** Records the server sent this user in pulls since `since` (its own audit of every pull). */
async function pulledSince(userId: string, since: string): Promise<number> {
  const res = await call<{ rows: AuditRow[] }>(server, 'GET', `/v1/privacy/audit?source=server&userId=${userId}&from=${encodeURIComponent(since)}&limit=1000`, { token: privacyToken });
  expect(res.status).toBe(200);
  return res.body.rows.filter((r) => r.type === 'sync-pull').reduce((n, r) => n + Number((r.detail as { records?: number } | null)?.records ?? 0), 0);
}

beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: () => undefined });
  link = relay(server.port);
  await link.up();
  const device = (await enrollDevice(server)).deviceId;
  const admin = (await login(server, DEMO.admin, device)).accessToken;
  privacyToken = (await login(server, DEMO.privacy, device)).accessToken;
  // A Ward B nurse, on Ward B's care team with its physician.
  const created = await call<{ id: string }>(server, 'POST', '/v1/admin/users', {
    token: admin, body: { username: NURSE_B.username, displayName: 'Bea Ward-B Nurse', password: NURSE_B.password, roles: ['nurse'] },
  });
  expect(created.status).toBe(200);
  const team = await call(server, 'PUT', '/v1/admin/care-teams/team-ward-b', {
    token: admin, body: { name: 'Ward B', userIds: ['u-physician2', created.body.id], patientIds: WARD_B },
  });
  expect(team.status).toBe(200);
  keyStore = createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`);
  ws = await startEnrolledWorkstation(server, { dataDir: dirs.make('ehr-ws-'), keyStore, name: 'shared ward workstation', serverUrl: `https://127.0.0.1:${link.port}` });
  other = await startEnrolledWorkstation(server, { dataDir: dirs.make('ehr-ws2-'), keyStore: createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`), name: 'doctor workstation' });
}, 120_000);

afterAll(async () => {
  await ws?.close();
  await other?.close();
  await link?.down().catch(() => undefined);
  await server?.close();
  await forgetWorkstationKeys(keyStore);
  dirs.removeAll();
});

describe('two nurses on one workstation', () => {
  let bUserId = '';
  let doctorRecordId = '';

  it('nurse A signs in and syncs Ward A; "data as of" is the server time of that complete pull', async () => {
    await ok(ws.invoke('auth.login', NURSE_A));
    const before = Date.now();
    const st = await ok<SyncStatus>(ws.invoke('sync.now', {}));
    expect(st.dataAsOfAt).toBeGreaterThanOrEqual(before - 5_000);
    expect(st.dataAsOfAt).toBeLessThanOrEqual(Date.now());
    expect(ws.vault.kv.get('sync.pull.lastCompleteAt')).toMatch(/Z$/);
    expect(await mine()).toEqual(WARD_A);
    await ok(ws.invoke('drafts.save', { key: 'vitals:demo-p-0002', patientId: 'demo-p-0002', content: '{"hr":"7"}' }));
  });

  it('while nurse B syncs here, a doctor elsewhere writes to a Ward A chart', async () => {
    await ok(other.invoke('auth.login', DEMO.doctor));
    await ok(other.invoke('sync.now', {}));
    doctorRecordId = (await ok<{ id: string }>(other.invoke('records.save', { patientId: 'demo-p-0002', resource: vitals('demo-p-0002', 123) }))).id;
    expect((await ok<SyncStatus>(other.invoke('sync.now', {}))).pendingMutations).toBe(0);

    // Switch user: the lock screen's button, then nurse B signs in (her first time here).
    expect((await ok<SessionStatus>(ws.invoke('auth.switchUser', {}))).state).toBe('none');
    const b = await ok<SessionStatus>(ws.invoke('auth.login', NURSE_B));
    bUserId = b.user!.userId;
    await ok(ws.invoke('sync.now', {}));
    expect(await mine()).toEqual(WARD_B);
  });

  it("both wards' charts are cached, yet nurse B cannot read a Ward A patient, nor nurse A's drafts", async () => {
    for (const p of [...WARD_A, ...WARD_B]) expect(ws.vault.patients.getById(p), p).not.toBeNull();
    const refused = await ws.invoke('patients.open', { patientId: 'demo-p-0002' });
    expect(refused.ok ? 'opened' : refused.error.code).toBe('FORBIDDEN');
    const list = await ws.invoke('records.list', { patientId: 'demo-p-0003' });
    expect(list.ok ? 'listed' : list.error.code).toBe('FORBIDDEN');
    expect(await ok<DraftSummary[]>(ws.invoke('drafts.list', {}))).toEqual([]);
  });

  it("switching back to nurse A re-pulls nothing: only the doctor's new record arrives", async () => {
    const since = new Date().toISOString();
    await ok(ws.invoke('auth.switchUser', {}));
    const back = await ok<SessionStatus>(ws.invoke('auth.login', NURSE_A));
    expect(back.sessions.map((s) => s.username).sort()).toEqual([NURSE_A.username, NURSE_B.username].sort());
    const changed: string[][] = [];
    const off = ws.onEvent((e) => {
      if (e.event === 'records.changed') changed.push(e.payload.patientIds);
    });
    await ok(ws.invoke('sync.now', {}));
    expect(await pulledSince('u-nurse', since)).toBe(1);
    // The open chart (if it is demo-p-0002) is told to refresh; a cycle that brings nothing says nothing.
    expect(changed).toEqual([['demo-p-0002']]);
    await ok(ws.invoke('sync.now', {}));
    expect(changed).toEqual([['demo-p-0002']]);
    off();
    const records = await ok<RecordView[]>(ws.invoke('records.list', { patientId: 'demo-p-0002' }));
    expect(records.map((r) => r.id)).toContain(doctorRecordId);
    expect((await ok<DraftSummary[]>(ws.invoke('drafts.list', {}))).map((d) => d.key)).toEqual(['vitals:demo-p-0002']);
    expect(await mine()).toEqual(WARD_A);
  });

  it('with the server gone, nurse B switches in offline and finds her charts', async () => {
    await link.down();
    await ok(ws.invoke('auth.switchUser', {}));
    const b = await ok<SessionStatus>(ws.invoke('auth.login', NURSE_B));
    expect(b).toMatchObject({ state: 'active', offline: true, user: { userId: bUserId } });
    expect(await mine()).toEqual(WARD_B);
    const chart = await ok<{ records: RecordView[] }>(ws.invoke('patients.open', { patientId: 'demo-p-0009' }));
    expect(chart.records.length).toBeGreaterThan(0);
    const refused = await ws.invoke('patients.open', { patientId: 'demo-p-0002' });
    expect(refused.ok ? 'opened' : refused.error.code).toBe('FORBIDDEN');
    await link.up();
  });
});
