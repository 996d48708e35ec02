/**
 * The privacy officer's clinic-wide review queue: an online break-glass with its reason,
 * justification, duration and every record read during the grant; alerts of any kind (a kind the
 * protocol's enum does not know yet shows too); refused justifications; append-only, audited
 * dispositions with sealed notes; the episode as FHIR AuditEvents; suspend and reinstate.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkEntry } from '../../src-shared/node/audit-chain';
import { AuditBundleSchema, BreakGlassResponseSchema, ReviewEpisodeResponseSchema, ReviewItemSchema, ReviewQueueResponseSchema, type ReviewItem } from '../../src-shared/sync';
import { CANARY, DEMO, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, type EnrolledDevice, type TestServer } from './helpers';

describe.each(VARIANTS)('review queue on $name', (variant) => {
  let server: TestServer;
  let dev: EnrolledDevice;
  let doctor2: string;
  let privacy: string;
  let grantId: string;
  const justification = `Collapsed in the corridor; ${CANARY.name} per the porter`;
  const queue = async (open?: boolean): Promise<ReviewItem[]> => {
    const res = await call(server, 'GET', `/v1/privacy/queue${open ? '?open=true' : ''}`, { token: privacy });
    expect(res.status).toBe(200);
    return ReviewQueueResponseSchema.parse(res.body).items;
  };

  beforeAll(async () => {
    server = await startTestServer(variant);
    dev = await enrollDevice(server);
    doctor2 = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  it('lists an online break-glass with reason, justification, duration and the records read during it', async () => {
    const res = await call(server, 'POST', '/v1/break-glass', { token: doctor2, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification, password: DEMO.doctor2.password, minutes: 30 } });
    const { grant } = BreakGlassResponseSchema.parse(res.body);
    grantId = grant.id;
    // The workstation's chain: a chart read during the grant, naming the records it showed.
    const read = linkEntry(null, dev.deviceId, {
      at: grant.startsAt, action: 'R', type: 'read', outcome: 'success', severity: 'info',
      userId: 'u-physician2', role: 'physician', patientId: 'demo-p-0001', resourceRefs: ['Patient/demo-p-0001', 'Observation/obs-1'], correlationId: `corr-${randomUUID()}`,
    }, dev.privateKey);
    expect((await call(server, 'POST', '/v1/audit', { token: doctor2, body: { deviceId: dev.deviceId, entries: [read] } })).status).toBe(200);

    const item = (await queue(true)).find((i) => i.subject === 'break-glass' && i.id === grant.id)!;
    expect(item).toMatchObject({ userId: 'u-physician2', patientId: 'demo-p-0001', reason: 'ETREAT', justification, durationMinutes: 30, userStatus: 'active', dispositions: [] });
    const episode = ReviewEpisodeResponseSchema.parse((await call(server, 'GET', `/v1/privacy/queue/break-glass/${grant.id}`, { token: privacy })).body);
    expect(episode.reads.filter((r) => r.source === 'device').map((r) => r.resourceRefs)).toEqual([['Patient/demo-p-0001', 'Observation/obs-1']]);
  });

  it('lists alerts of any kind, and refused justifications', async () => {
    await server.db.query("INSERT INTO alerts (id, kind, severity, user_id, detail) VALUES ('alert-forged', 'forged-chain', 'high', 'u-nurse', $1)", [JSON.stringify({ deviceId: dev.deviceId })]);
    const refused = await call(server, 'POST', '/v1/break-glass/justification', {
      token: doctor2, body: { deviceId: dev.deviceId, seq: 1, patientId: 'demo-p-0001', reason: 'ETREAT', correlationId: `corr-${randomUUID()}`, justification: 'x'.repeat(30) },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const items = await queue();
    expect(items.find((i) => i.id === 'alert-forged')).toMatchObject({ subject: 'alert', alertKind: 'forged-chain', userId: 'u-nurse' });
    expect(items.some((i) => i.subject === 'refused-justification' && i.userId === 'u-physician2')).toBe(true);
  });

  it('a disposition is appended with a sealed note and audited; the item leaves the open queue; dispositions are never edited', async () => {
    const note = `Appropriate: ED admission of ${CANARY.name}`;
    const res = await call(server, 'POST', '/v1/privacy/reviews', { token: privacy, body: { subject: 'break-glass', id: grantId, disposition: 'appropriate', note } });
    expect(res.status).toBe(200);
    expect(ReviewItemSchema.parse(res.body).dispositions).toMatchObject([{ disposition: 'appropriate', note, reviewerId: 'u-privacy' }]);
    const again = await call(server, 'POST', '/v1/privacy/reviews', { token: privacy, body: { subject: 'break-glass', id: grantId, disposition: 'follow-up', note: 'Ask the ward' } });
    expect(ReviewItemSchema.parse(again.body).dispositions.map((d) => d.disposition)).toEqual(['appropriate', 'follow-up']);
    expect((await queue(true)).some((i) => i.id === grantId)).toBe(false);
    const audited = await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM server_audit WHERE type = 'review-disposition' AND detail->>'subjectId' = $1", [grantId]);
    expect(audited[0]!.n).toBe(2);
    // Append-only twice over: the application role has no UPDATE/DELETE, and a trigger refuses them anyway.
    await expect(server.db.query("UPDATE review_dispositions SET disposition = 'inappropriate'")).rejects.toThrow(/append-only|permission denied/);
    await expect(server.db.query('DELETE FROM review_dispositions')).rejects.toThrow(/append-only|permission denied/);
    expect(await dumpDatabaseText(server)).not.toContain(CANARY.name);
  });

  it('exports the episode as FHIR AuditEvents (its reads and its dispositions)', async () => {
    const res = await call(server, 'GET', `/v1/privacy/queue/break-glass/${grantId}/fhir`, { token: privacy });
    const bundle = AuditBundleSchema.parse(res.body);
    const codes = bundle.entry.map((e) => e.resource.subtype?.[0]?.code);
    expect(codes).toContain('read');
    expect(codes.filter((c) => c === 'review-disposition')).toHaveLength(2);
    expect(JSON.stringify(bundle)).not.toContain(CANARY.name);
  });

  it('only the privacy officer reads or reviews; bad input is refused without echo', async () => {
    expect((await call(server, 'GET', '/v1/privacy/queue', { token: doctor2 })).status).toBe(403);
    expect((await call(server, 'POST', '/v1/privacy/reviews', { token: doctor2, body: { subject: 'break-glass', id: grantId, disposition: 'appropriate', note: 'x' } })).status).toBe(403);
    expect((await call(server, 'POST', '/v1/privacy/reviews', { token: privacy, body: { subject: 'break-glass', id: grantId, disposition: 'fine', note: 'x' } })).status).toBe(400);
    const missing = await call(server, 'GET', "/v1/privacy/queue/alert/x';DROP TABLE alerts;--", { token: privacy });
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.text).not.toContain('DROP');
    expect((await call(server, 'GET', '/v1/privacy/queue/alert/no-such-alert', { token: privacy })).status).toBe(404);
  });

  it('suspend and reinstate an account from the queue', async () => {
    const sus = await call(server, 'POST', '/v1/admin/users/u-nurse/suspend', { token: privacy, body: { note: 'forged chain under review' } });
    expect(sus.body).toMatchObject({ status: 'suspended' });
    expect((await queue()).find((i) => i.id === 'alert-forged')?.userStatus).toBe('suspended');
    const back = await call(server, 'POST', '/v1/admin/users/u-nurse/reinstate', { token: privacy, body: { note: 'device replaced' } });
    expect(back.body).toMatchObject({ status: 'active' });
    expect((await call(server, 'POST', '/v1/admin/users/u-nurse/suspend', { token: doctor2, body: { note: 'x' } })).status).toBe(403);
  });
});
