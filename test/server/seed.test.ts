/** The demo seed: users per role, care teams, a restricted patient, charts sealed with the shared envelope code. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJson } from '../../src-shared/node/envelope';
import type { PullResponse, UnwrapKeyResponse } from '../../src-shared/sync';
import { DEMO_USERS } from '../../src-server/index';
import { DEMO, call, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe('demo seed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ name: 'pglite' }, { demoPatients: 20 });
  });
  afterAll(async () => server?.stop());

  it('seeds one user per role and a restricted patient outside every care team', async () => {
    expect(new Set(DEMO_USERS.map((u) => u.role))).toEqual(new Set(['nurse', 'physician', 'billing', 'admin', 'privacy_officer']));
    expect(server.seeded).toMatchObject({ patients: 20, restrictedPatientId: 'demo-p-0001' });
    const onTeam = await server.db.query("SELECT 1 FROM care_team_patients WHERE patient_id = 'demo-p-0001'");
    expect(onTeam).toEqual([]);
  });

  it('charts decrypt with the patient key unwrapped by a care-team member, and hold every resource type', async () => {
    const dev = await enrollDevice(server);
    const t = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    const keys = await call<UnwrapKeyResponse>(server, 'POST', '/v1/keys/unwrap', { token: t, body: { patientId: 'demo-p-0002' } });
    const dataKey = Buffer.from(keys.body.keys[0]!.dataKey, 'base64url');
    const pulled = await call<PullResponse>(server, 'GET', '/v1/sync/pull?patientId=demo-p-0002', { token: t });
    const resources = pulled.body.records.map((r) => openJson<{ resourceType: string; id: string }>(r.envelope, dataKey));
    expect(new Set(resources.map((r) => r.resourceType))).toEqual(new Set(['Patient', 'Observation', 'Condition', 'MedicationStatement', 'AllergyIntolerance', 'DocumentReference']));
    expect(resources.every((r) => pulled.body.records.some((x) => x.envelope.recordId === r.id))).toBe(true);
  });
});
