/**
 * The sync engine's automatic cycles carry a care-team change into the session in front: with
 * nobody pressing "sync now" or signing in again, a patient taken off the clinician's care team is
 * refused (FORBIDDEN) and leaves "my patients", and comes back when the team is restored.
 * Real server over pinned TLS, real keychain.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { PatientPage } from '../../src-shared/api/types';
import { createKeytarKeyStore } from '../../src-main/core/keychain';
import type { Workstation } from '../../src-main/core/workstation';
import { DEMO, call, enrollDevice, login } from '../server/helpers';
import { startEnrolledWorkstation, tempDirs } from './real-stack';

type Team = { id: string; name: string; userIds: string[]; patientIds: string[] };
let server: RunningServer;
let ws: Workstation;
let adminToken: string;
const dirs = tempDirs();

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
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: () => undefined });
  ws = await startEnrolledWorkstation(server, {
    dataDir: dirs.make('ehr-ws-'),
    keyStore: createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`),
    name: 'care-team test',
    syncIntervalMs: 250,
  });
  adminToken = (await login(server, DEMO.admin, (await enrollDevice(server)).deviceId)).accessToken;
}, 120_000);

afterAll(async () => {
  await ws?.close();
  await server?.close();
  dirs.removeAll();
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
