/**
 * The sync engine's automatic cycles carry a care-team change into the session in front: with
 * nobody pressing "sync now" or signing in again, a patient taken off the clinician's care team is
 * refused (FORBIDDEN) and leaves "my patients", and comes back when the team is restored.
 * Real server over pinned TLS, real keychain.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { PatientPage } from '../../src-shared/api/types';
import { createKeytarKeyStore } from '../../src-main/core/keychain';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { createWorkstation, type Workstation } from '../../src-main/core/workstation';
import { DEMO, call, enrollDevice, login } from '../server/helpers';
import { unlockTestKeyring } from '../vault/helpers';

type Team = { id: string; name: string; userIds: string[]; patientIds: string[] };
let server: RunningServer;
let ws: Workstation;
let adminToken: string;
const dirs: string[] = [];
const temp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

async function wardA(): Promise<Team> {
  const res = await call<{ teams: Team[] }>(server, 'GET', '/v1/admin/care-teams', { token: adminToken });
  return res.body.teams.find((t) => t.id === 'team-ward-a')!;
}
async function setPatients(team: Team, patientIds: string[]): Promise<void> {
  const res = await call(server, 'PUT', `/v1/admin/care-teams/${team.id}`, { token: adminToken, body: { name: team.name, userIds: team.userIds, patientIds } });
  expect(res.status).toBe(200);
}
async function mine(): Promise<string[]> {
  const r = await ws.invoke('patients.mine', { limit: 100 });
  if (!r.ok) throw new Error(r.error.code);
  return (r.value as PatientPage).patients.map((p) => p.id);
}
async function until(what: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting for the automatic sync cycle');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  server = await startServer({ dataDir: temp('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: () => undefined });
  await unlockTestKeyring();
  ws = await createWorkstation({
    dataDir: temp('ehr-ws-'),
    keyStore: createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`),
    server: { url: server.url, fingerprint: server.fingerprint },
    syncIntervalMs: 250,
  });
  const enrol = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: ws.deviceId });
  await enrol.enroll({ code: await server.issueEnrollmentCode(), publicKey: ws.vault.device.publicKeyRaw, name: 'care-team test' });
  enrol.close();
  adminToken = (await login(server, DEMO.admin, (await enrollDevice(server)).deviceId)).accessToken;
}, 120_000);

afterAll(async () => {
  await ws?.close();
  await server?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('automatic sync cycles and the care team', () => {
  it('a patient taken off the care team is refused without a new login or sync.now, and returns when restored', async () => {
    expect((await ws.invoke('auth.login', DEMO.nurse)).ok).toBe(true);
    await until(async () => (await mine()).length > 1);
    const team = await wardA();
    const patientId = (await mine())[0]!;
    expect(team.patientIds).toContain(patientId);
    expect((await ws.invoke('patients.open', { patientId })).ok).toBe(true);

    await setPatients(team, team.patientIds.filter((p) => p !== patientId));
    await until(async () => !(await mine()).includes(patientId));
    const refused = await ws.invoke('patients.open', { patientId });
    expect(refused.ok).toBe(false);
    // FORBIDDEN, not NOT_FOUND: the session's own access snapshot changed, not only the vault's cache.
    if (!refused.ok) expect(refused.error.code).toBe('FORBIDDEN');

    await setPatients(team, team.patientIds);
    await until(async () => (await mine()).includes(patientId));
    expect((await ws.invoke('patients.open', { patientId })).ok).toBe(true);
  });
});
