/** Admin API: users, roles, care teams, restricted patients, devices; privacy audit query by user and time. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminUserSchema, AuditQueryResponseSchema, CareTeamListResponseSchema, UserListResponseSchema, type MeResponse } from '../../src-shared/sync';
import { DEMO, VARIANTS, call, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe.each(VARIANTS)('admin and privacy API on $name', (variant) => {
  let server: TestServer;
  let deviceId: string;
  let admin: string;
  let privacy: string;
  beforeAll(async () => {
    server = await startTestServer(variant);
    deviceId = (await enrollDevice(server)).deviceId;
    admin = (await login(server, DEMO.admin, deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  it('creates a user, changes roles, puts them on a care team; they then see exactly that team', async () => {
    const username = `nurse.${randomUUID().slice(0, 8)}`;
    const created = await call(server, 'POST', '/v1/admin/users', { token: admin, body: { username, displayName: 'New Nurse', password: 'long-enough-pass-1', roles: ['nurse'] } });
    expect(created.status).toBe(200);
    const user = AdminUserSchema.parse(created.body);
    expect(user.status).toBe('active');
    expect((await call(server, 'POST', '/v1/admin/users', { token: admin, body: { username, displayName: 'Dup', password: 'long-enough-pass-1', roles: ['nurse'] } })).status).toBe(409);
    const roles = await call(server, 'PUT', `/v1/admin/users/${user.id}/roles`, { token: admin, body: { roles: ['nurse', 'physician'] } });
    expect(roles.body).toMatchObject({ roles: ['nurse', 'physician'] });
    const team = await call(server, 'PUT', '/v1/admin/care-teams/team-night', { token: admin, body: { name: 'Night', userIds: [user.id], patientIds: ['demo-p-0010'] } });
    expect(team.status).toBe(200);
    const teams = CareTeamListResponseSchema.parse((await call(server, 'GET', '/v1/admin/care-teams', { token: admin })).body).teams;
    expect(teams.find((t) => t.id === 'team-night')).toMatchObject({ userIds: [user.id], patientIds: ['demo-p-0010'] });
    const t = await login(server, { username, password: 'long-enough-pass-1' }, deviceId);
    const me = await call<MeResponse>(server, 'GET', '/v1/me', { token: t.accessToken });
    expect(me.body.careTeamPatientIds).toEqual(['demo-p-0010']);
    const users = UserListResponseSchema.parse((await call(server, 'GET', '/v1/admin/users', { token: admin })).body).users;
    expect(users.map((u) => u.username)).toContain(username);
  });

  it('refuses admin routes to clinicians and privacy routes to admins-only paths (403, audited)', async () => {
    const nurse = (await login(server, DEMO.nurse, deviceId)).accessToken;
    expect((await call(server, 'GET', '/v1/admin/users', { token: nurse })).status).toBe(403);
    expect((await call(server, 'PUT', '/v1/admin/care-teams/team-ward-a', { token: nurse, body: { name: 'x', userIds: ['u-nurse'], patientIds: ['demo-p-0001'] } })).status).toBe(403);
    expect((await call(server, 'GET', '/v1/admin/users', { token: privacy })).status).toBe(403);
    const denied = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'role-denied' AND user_id = 'u-nurse'");
    expect(denied.length).toBe(2);
  });

  it('marks a patient restricted and lists devices', async () => {
    // demo-p-0005 is on the nurse's care team: before, the nurse is not told of any restricted patient.
    const nurse = (await login(server, DEMO.nurse, deviceId)).accessToken;
    const before = await call<MeResponse>(server, 'GET', '/v1/me', { token: nurse });
    expect(before.body.careTeamPatientIds).toContain('demo-p-0005');
    expect(before.body.restrictedPatientIds).toEqual([]);
    expect((await call(server, 'PUT', '/v1/admin/patients/demo-p-0005/restricted', { token: admin, body: { restricted: true } })).status).toBe(200);
    const after = await call<MeResponse>(server, 'GET', '/v1/me', { token: nurse });
    expect(after.body.restrictedPatientIds).toEqual(['demo-p-0005']);
    // Only restricted patients the user may hold are listed: not demo-p-0001 (on no care team), and nothing to the admin.
    expect((await call<MeResponse>(server, 'GET', '/v1/me', { token: admin })).body.restrictedPatientIds).toEqual([]);
    const devices = await call<{ devices: { deviceId: string }[] }>(server, 'GET', '/v1/admin/devices', { token: admin });
    expect(devices.body.devices.map((d) => d.deviceId)).toContain(deviceId);
  });

  it('queries the server audit trail by user and time window', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const res = await call(server, 'GET', `/v1/privacy/audit?userId=u-admin&source=server&from=${encodeURIComponent(from)}`, { token: privacy });
    expect(res.status).toBe(200);
    const rows = AuditQueryResponseSchema.parse(res.body).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.userId === 'u-admin' && r.at >= from)).toBe(true);
    expect(rows.map((r) => r.type)).toContain('patient-restricted');
    const none = await call(server, 'GET', `/v1/privacy/audit?userId=u-admin&to=${encodeURIComponent('2000-01-01T00:00:00Z')}`, { token: privacy });
    expect(AuditQueryResponseSchema.parse(none.body).rows).toEqual([]);
  });
});
