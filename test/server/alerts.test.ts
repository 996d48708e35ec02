/** Break-glass grants with privacy-officer alert and review; access-rate monitor suspends and records why. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkEntry } from '../../src-shared/node/audit-chain';
import type { AuditEntry } from '../../src-shared/audit';
import { AlertListResponseSchema, BreakGlassListResponseSchema, BreakGlassResponseSchema } from '../../src-shared/sync';
import { CANARY, DEMO, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe.each(VARIANTS)('break-glass and alerts on $name', (variant) => {
  let server: TestServer;
  let clock = Date.now();
  let deviceId: string;
  let doctor2: string;
  let privacy: string;
  beforeAll(async () => {
    server = await startTestServer(variant, { now: () => new Date(clock), config: { rateMonitor: { factor: 3, trailingHours: 24, minAccesses: 5 } } });
    const dev = await enrollDevice(server);
    deviceId = dev.deviceId;
    doctor2 = (await login(server, DEMO.doctor2, deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const justification = `Unconscious on arrival, no chart; ${CANARY.name} per paramedics`;

  it('grants time-limited access to one restricted patient, raises a high alert, and expires', async () => {
    expect((await call(server, 'POST', '/v1/keys/unwrap', { token: doctor2, body: { patientId: 'demo-p-0001' } })).status).toBe(403);
    const wrongPw = await call(server, 'POST', '/v1/break-glass', { token: doctor2, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification, password: 'wrong' } });
    expect(wrongPw.status).toBe(401);
    const res = await call(server, 'POST', '/v1/break-glass', {
      token: doctor2, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification, password: DEMO.doctor2.password, minutes: 30 },
    });
    expect(res.status).toBe(200);
    const { grant } = BreakGlassResponseSchema.parse(res.body);
    expect(new Date(grant.expiresAt).getTime() - new Date(grant.startsAt).getTime()).toBe(30 * 60_000);
    expect((await call(server, 'POST', '/v1/keys/unwrap', { token: doctor2, body: { patientId: 'demo-p-0001' } })).status).toBe(200);
    expect((await call(server, 'GET', '/v1/sync/pull?patientId=demo-p-0001', { token: doctor2 })).status).toBe(200);
    const me = await call<{ breakGlassGrants: unknown[]; restrictedPatientIds: string[] }>(server, 'GET', '/v1/me', { token: doctor2 });
    expect(me.body.breakGlassGrants).toHaveLength(1);
    // Granted, the patient is one this user may hold: now /v1/me says it is restricted.
    expect(me.body.restrictedPatientIds).toEqual(['demo-p-0001']);

    const alerts = AlertListResponseSchema.parse((await call(server, 'GET', '/v1/privacy/alerts?open=true', { token: privacy })).body).alerts;
    const alert = alerts.find((a) => a.kind === 'break-glass' && a.patientId === 'demo-p-0001')!;
    expect(alert.severity).toBe('high');
    expect(JSON.stringify(alert)).not.toContain(CANARY.name);
    // The justification is readable by the privacy officer, sealed at rest.
    const review = BreakGlassListResponseSchema.parse((await call(server, 'GET', '/v1/privacy/break-glass', { token: privacy })).body).grants[0]!;
    expect(review.justification).toBe(justification);
    expect(await dumpDatabaseText(server)).not.toContain(CANARY.name);
    const reviewed = await call(server, 'POST', `/v1/privacy/break-glass/${grant.id}/review`, { token: privacy, body: { note: 'Appropriate: ED admission' } });
    expect(reviewed.body).toMatchObject({ reviewedBy: 'u-privacy', reviewNote: 'Appropriate: ED admission' });
    const acked = await call(server, 'POST', `/v1/privacy/alerts/${alert.id}/ack`, { token: privacy, body: { note: 'reviewed' } });
    expect(acked.body).toMatchObject({ acknowledgedBy: 'u-privacy', note: 'reviewed' });

    clock += 31 * 60_000;
    doctor2 = (await login(server, DEMO.doctor2, deviceId)).accessToken;
    expect((await call(server, 'POST', '/v1/keys/unwrap', { token: doctor2, body: { patientId: 'demo-p-0001' } })).status).toBe(403);
  });

  it('only clinicians may break the glass; only privacy officers review', async () => {
    const billing = (await login(server, DEMO.billing, deviceId)).accessToken;
    const res = await call(server, 'POST', '/v1/break-glass', { token: billing, body: { patientId: 'demo-p-0002', reason: 'ETREAT', justification, password: DEMO.billing.password } });
    expect(res.status).toBe(403);
    expect((await call(server, 'GET', '/v1/privacy/break-glass', { token: doctor2 })).status).toBe(403);
  });

  it('does not count a first sync\'s key unwraps as record accesses: a new workstation user is not suspended', async () => {
    const dev = await enrollDevice(server);
    const doctor = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    const me = (await call(server, 'GET', '/v1/me', { token: doctor })).body as { careTeamPatientIds: string[] };
    const team = me.careTeamPatientIds.slice(0, 12);
    expect(team.length).toBeGreaterThan(5); // more than this suite's minAccesses
    for (const patientId of team) {
      expect((await call(server, 'POST', '/v1/keys/unwrap', { token: doctor, body: { patientId } })).status).toBe(200);
    }
    expect((await call(server, 'GET', '/v1/me', { token: doctor })).status).toBe(200);
    const [user] = await server.db.query<{ status: string }>("SELECT status FROM users WHERE id = 'u-physician'");
    expect(user!.status).toBe('active');
  });

  it('suspends a user whose hourly accesses exceed 3x their trailing average, and records why', async () => {
    const dev = await enrollDevice(server);
    let nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    // History: 1 read per hour for 20 hours, each reported as it happened (the monitor windows by the
    // time the server receives a report), then 10 reads in the last hour.
    let head: { seq: number; hash: string } | null = null;
    const reads = (n: number): AuditEntry[] =>
      Array.from({ length: n }, (_, i) => {
        const e = linkEntry(head, dev.deviceId, { at: new Date(clock - (n - i) * 1000).toISOString(), action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: 'demo-p-0002', correlationId: `corr-${randomUUID()}` }, dev.privateKey);
        head = { seq: e.seq, hash: e.hash };
        return e;
      });
    for (let h = 0; h < 20; h++) {
      clock += 3600_000;
      nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
      expect((await call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: dev.deviceId, entries: reads(1) } })).status).toBe(200);
    }
    clock += 3600_000;
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    expect((await call(server, 'GET', '/v1/me', { token: nurse })).status).toBe(200);
    const second = await call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: dev.deviceId, entries: reads(10) } });
    expect(second.body).toMatchObject({ accepted: 10 });
    const [user] = await server.db.query<{ status: string; status_reason: string }>("SELECT status, status_reason FROM users WHERE id = 'u-nurse'");
    expect(user!.status).toBe('suspended');
    expect(user!.status_reason).toMatch(/10 patient accesses in the last hour/);
    expect((await call(server, 'GET', '/v1/me', { token: nurse })).status).toBe(423);
    privacy = (await login(server, DEMO.privacy, deviceId)).accessToken; // the clock moved past the first token's 15 minutes
    const alerts = AlertListResponseSchema.parse((await call(server, 'GET', '/v1/privacy/alerts', { token: privacy })).body).alerts;
    expect(alerts.some((a) => a.kind === 'access-rate' && a.userId === 'u-nurse')).toBe(true);
    // The privacy officer reinstates after review.
    const back = await call(server, 'POST', '/v1/admin/users/u-nurse/reinstate', { token: privacy, body: { note: 'ward round, expected' } });
    expect(back.body).toMatchObject({ status: 'active' });
  });
});
