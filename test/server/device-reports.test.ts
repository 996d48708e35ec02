/**
 * Issue 13, classes 4, 5 and 8 (what a workstation reports is checked against what the server knows):
 * 4. the access-rate monitor counts what the server serves itself, windows device reports by the
 *    time they were received (a large gap is flagged), and refuses reads in the name of a user with
 *    no session on the device — alerting on the device, never suspending that user;
 * 5. a break-glass start/end is tied to a session user of the device and to a grant on it;
 * 8. a forged chain (fork, gap, bad signature, another device's chain) raises a high alert naming the device.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src-shared/audit';
import { linkEntry, type ChainHead } from '../../src-shared/node/audit-chain';
import { DEMO, VARIANTS, breakGlassChain, call, enrollDevice, login, startTestServer, type EnrolledDevice, type TestServer } from './helpers';

describe.each(VARIANTS)('device reports on $name', (variant) => {
  let server: TestServer;
  let clock = Date.now();
  beforeAll(async () => {
    server = await startTestServer(variant, { now: () => new Date(clock), config: { rateMonitor: { factor: 3, trailingHours: 24, minAccesses: 5, lateReportMinutes: 60 } } });
  });
  afterAll(async () => server?.stop());

  const ingest = (dev: EnrolledDevice, token: string, entries: AuditEntry[]) => call(server, 'POST', '/v1/audit', { token, body: { deviceId: dev.deviceId, entries } });
  const readChain = (dev: EnrolledDevice) => {
    let head: ChainHead | null = null;
    return (n: number, userId: string, role: string, atMs: (i: number) => number): AuditEntry[] =>
      Array.from({ length: n }, (_, i) => {
        const e = linkEntry(head, dev.deviceId, { at: new Date(atMs(i)).toISOString(), action: 'R', type: 'read', outcome: 'success', severity: 'info', userId, role, patientId: 'demo-p-0002', correlationId: `corr-${randomUUID()}` }, dev.privateKey);
        head = { seq: e.seq, hash: e.hash };
        return e;
      });
  };
  const alertsOf = (kind: string, deviceId: string) =>
    server.db.query<{ severity: string; user_id: string | null; detail: Record<string, unknown> }>("SELECT severity, user_id, detail FROM alerts WHERE kind = $1 AND detail->>'deviceId' = $2", [kind, deviceId]);
  const status = async (userId: string) => (await server.db.query<{ status: string }>('SELECT status FROM users WHERE id = $1', [userId]))[0]!.status;

  it('reads in the name of a user who never signed in on the device are refused, alerted on the device, and suspend no one', async () => {
    const dev = await enrollDevice(server);
    const nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    const forged = readChain(dev)(40, 'u-physician2', 'physician', (i) => clock - 1000 + i);
    const res = await ingest(dev, nurse, forged);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ detail: { problem: 'user', seq: 1 } });
    expect(await status('u-physician2')).toBe('active');
    expect(await server.db.query('SELECT 1 FROM device_audit WHERE device_id = $1', [dev.deviceId])).toHaveLength(0);
    const [alert] = await alertsOf('device-report-refused', dev.deviceId);
    expect(alert).toMatchObject({ severity: 'high', user_id: null, detail: { problem: 'user', reportedBy: 'u-nurse' } });
  });

  it('a burst back-dated 70 minutes counts in the hour it was received, and the gap is flagged', async () => {
    clock += 2 * 3600_000;
    const dev = await enrollDevice(server);
    const doctor = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    const burst = readChain(dev)(12, 'u-physician', 'physician', (i) => clock - 70 * 60_000 + i * 1000);
    expect((await ingest(dev, doctor, burst)).status).toBe(200);
    expect(await status('u-physician')).toBe('suspended');
    const [late] = await alertsOf('late-audit-report', dev.deviceId);
    expect(late).toMatchObject({ severity: 'medium', detail: { entries: 12, maxGapMinutes: 70 } });
    await server.db.query("UPDATE users SET status = 'active', status_reason = NULL WHERE id = 'u-physician'");
  });

  it('counts what the server serves itself: break-glass grants and repeated key unwraps suspend a burst nobody reported', async () => {
    clock += 30 * 3600_000; // past the trailing window of the cases before
    const dev = await enrollDevice(server);
    const doctor2 = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
    const me = (await call(server, 'GET', '/v1/me', { token: doctor2 })).body as { careTeamPatientIds: string[] };
    // First fetch of each care-team patient's keys (a first sync) is not counted...
    for (const patientId of me.careTeamPatientIds) expect((await call(server, 'POST', '/v1/keys/unwrap', { token: doctor2, body: { patientId } })).status).toBe(200);
    expect(await status('u-physician2')).toBe('active');
    // ...fetching them again, and breaking the glass, are people opening charts.
    let last = 200;
    for (let i = 0; i < 6 && last === 200; i++) {
      const patientId = me.careTeamPatientIds[i % me.careTeamPatientIds.length]!;
      last = (await call(server, 'POST', '/v1/keys/unwrap', { token: doctor2, body: { patientId } })).status;
    }
    expect(await status('u-physician2')).toBe('suspended');
    const kinds = await server.db.query<{ kind: string; source: string }>("SELECT DISTINCT kind, source FROM access_events WHERE user_id = 'u-physician2'");
    expect(kinds).toEqual([{ kind: 'key-unwrap', source: 'server' }]);
    await server.db.query("UPDATE users SET status = 'active', status_reason = NULL WHERE id = 'u-physician2'");
    clock += 30 * 3600_000;
    const fresh = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
    const grant = await call(server, 'POST', '/v1/break-glass', { token: fresh, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification: 'Covering ED tonight, no chart', password: DEMO.doctor2.password } });
    expect(grant.status).toBe(200);
    expect(await server.db.query("SELECT 1 FROM access_events WHERE user_id = 'u-physician2' AND kind = 'break-glass'")).toHaveLength(1);
  });

  it('a break-glass start naming another user, or an end of another device\'s grant, is refused and alerted on the reporting device', async () => {
    clock += 30 * 3600_000;
    const devA = await enrollDevice(server);
    const devB = await enrollDevice(server);
    const nurseA = (await login(server, DEMO.nurse, devA.deviceId)).accessToken;
    const nurseB = (await login(server, DEMO.nurse, devB.deviceId)).accessToken;
    // An online grant made on device A.
    const corr = `corr-${randomUUID()}`;
    expect((await call(server, 'POST', '/v1/break-glass', { token: nurseA, correlation: corr, body: { patientId: 'demo-p-0011', reason: 'ETREAT', justification: 'Night cover, chart needed', password: DEMO.nurse.password } })).status).toBe(200);
    // Device B reports the end of that grant: not applied, alert on B.
    const chainB = breakGlassChain(devB);
    const [end] = chainB([{ at: new Date(clock).toISOString(), type: 'break-glass-end', outcome: 'success', patientId: 'demo-p-0011', correlationId: `sess-${randomUUID()}`, reasonCode: 'ended' }]);
    expect((await ingest(devB, nurseB, [end!])).status).toBe(200);
    const [open] = await server.db.query<{ detail: Record<string, unknown> }>("SELECT detail FROM alerts WHERE kind = 'break-glass' AND patient_id = 'demo-p-0011' ORDER BY created_at DESC LIMIT 1");
    expect(open!.detail.endedAt ?? null).toBeNull();
    expect(await alertsOf('device-report-refused', devB.deviceId)).toEqual([expect.objectContaining({ severity: 'high', user_id: null, detail: expect.objectContaining({ problem: 'break-glass-end' }) })]);
    // Device B reports a break-glass start in the name of a physician who never signed in there: refused, no alert against them.
    const relinked = linkEntry({ seq: end!.seq, hash: end!.hash }, devB.deviceId, {
      at: new Date(clock).toISOString(), action: 'E', type: 'break-glass-start', outcome: 'success', severity: 'high', userId: 'u-physician', role: 'physician',
      patientId: 'demo-p-0001', correlationId: `corr-${randomUUID()}`, reasonCode: 'ETREAT',
    }, devB.privateKey);
    expect((await ingest(devB, nurseB, [relinked])).status).toBe(403);
    expect(await server.db.query("SELECT 1 FROM alerts WHERE kind = 'break-glass' AND user_id = 'u-physician'")).toHaveLength(0);
    // The end on its own device closes it.
    const [endA] = breakGlassChain(devA)([{ at: new Date(clock).toISOString(), type: 'break-glass-end', outcome: 'success', patientId: 'demo-p-0011', correlationId: `sess-${randomUUID()}`, reasonCode: 'ended' }]);
    expect((await ingest(devA, nurseA, [endA!])).status).toBe(200);
    const [closed] = await server.db.query<{ detail: Record<string, unknown> }>("SELECT detail FROM alerts WHERE kind = 'break-glass' AND patient_id = 'demo-p-0011' ORDER BY created_at DESC LIMIT 1");
    expect(closed!.detail).toMatchObject({ endReason: 'ended', endDeviceId: devA.deviceId });
  });

  it('forged chains — fork, gap, bad signature, rewritten history, another device\'s chain — each raise a high alert naming the device; a true retry does not', async () => {
    const dev = await enrollDevice(server);
    const nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    const reads = readChain(dev)(4, 'u-nurse', 'nurse', (i) => clock + i);
    expect((await ingest(dev, nurse, reads.slice(0, 2))).status).toBe(200);
    const stranger = generateKeyPairSync('ed25519');
    const gap = linkEntry({ seq: 3, hash: reads[2]!.hash }, dev.deviceId, { action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: 'demo-p-0002', correlationId: `corr-${randomUUID()}` }, dev.privateKey);
    const badSig = linkEntry({ seq: 2, hash: reads[1]!.hash }, dev.deviceId, { action: 'R', type: 'read', outcome: 'success', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: 'demo-p-0002', correlationId: `corr-${randomUUID()}` }, stranger.privateKey);
    const rewritten = linkEntry({ seq: 1, hash: reads[0]!.hash }, dev.deviceId, { action: 'R', type: 'read', outcome: 'denied', severity: 'info', userId: 'u-nurse', role: 'nurse', patientId: 'demo-p-0003', correlationId: `corr-${randomUUID()}` }, dev.privateKey);
    const expected: [AuditEntry[], string][] = [[[gap], 'gap'], [[badSig], 'signature'], [[rewritten], 'fork']];
    for (const [entries, problem] of expected) {
      const res = await ingest(dev, nurse, entries);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ detail: { problem } });
    }
    expect((await call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: 'dev-someone-else', entries: reads.slice(2) } })).status).toBe(403);
    // A retry of entries the server holds, unchanged, is no attack.
    expect((await ingest(dev, nurse, reads.slice(0, 2))).body).toMatchObject({ detail: { problem: 'replay' } });
    const alerts = await alertsOf('audit-chain-refused', dev.deviceId);
    expect(alerts.map((a) => a.detail.problem).sort()).toEqual(['device', 'fork', 'gap', 'signature']);
    for (const a of alerts) expect(a).toMatchObject({ severity: 'high', user_id: null, detail: { reportedBy: 'u-nurse' } });
  });
});
