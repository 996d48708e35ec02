/**
 * Break-glass taken on a workstation (offline) reaches the privacy officer through audit ingest:
 * a device-signed break-glass-start raises exactly one alert (ids and codes only), its end is
 * recorded on it, and a grant made online through /v1/break-glass — whose start entry arrives via
 * ingest too — never gets a second alert.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src-shared/audit';
import { AlertListResponseSchema, type Alert } from '../../src-shared/sync';
import { DEMO, VARIANTS, breakGlassChain, call, enrollDevice, login, startTestServer, type EnrolledDevice, type TestServer } from './helpers';

describe.each(VARIANTS)('break-glass alerts from device audit on $name', (variant) => {
  let server: TestServer;
  const clock = Date.now();
  let dev: EnrolledDevice;
  let chain: ReturnType<typeof breakGlassChain>;
  let nurse: string;
  let privacy: string;

  beforeAll(async () => {
    server = await startTestServer(variant, { now: () => new Date(clock) });
    dev = await enrollDevice(server);
    chain = breakGlassChain(dev); // links entries onto this device's chain, as the workstation's vault does
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const ingest = (entries: AuditEntry[]) => call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: dev.deviceId, entries } });
  const alerts = async (patientId: string): Promise<Alert[]> => {
    const res = await call(server, 'GET', '/v1/privacy/alerts', { token: privacy });
    expect(res.status).toBe(200);
    return AlertListResponseSchema.parse(res.body).alerts.filter((a) => a.kind === 'break-glass' && a.patientId === patientId);
  };
  const iso = (msFromNow: number) => new Date(clock + msFromNow).toISOString();

  it('an offline break-glass-start raises exactly one alert, ids and codes only; its end is recorded on it', async () => {
    const corr = `corr-${randomUUID()}`;
    const entries = chain([
      // A refused attempt (wrong password) raises nothing.
      { at: iso(-60_000), type: 'break-glass-start', outcome: 'failure', patientId: 'demo-p-0011', correlationId: `corr-${randomUUID()}`, reasonCode: 'UNAUTHENTICATED' },
      { at: iso(-50_000), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0011', resourceRefs: ['Patient/demo-p-0011'], correlationId: corr, reasonCode: 'ETREAT' },
    ]);
    expect((await ingest(entries)).status).toBe(200);
    const [alert, ...more] = await alerts('demo-p-0011');
    expect(more).toHaveLength(0);
    expect(alert).toMatchObject({
      userId: 'u-nurse', severity: 'medium', acknowledgedAt: null,
      detail: { source: 'device', deviceId: dev.deviceId, seq: entries[1]!.seq, correlationId: corr, reason: 'ETREAT', restricted: false, startedAt: iso(-50_000) },
    });
    expect(alert!.detail.endedAt ?? null).toBeNull();

    // The same entries again are a replay: refused, and no second alert.
    expect((await ingest(entries)).status).toBe(409);
    expect(await alerts('demo-p-0011')).toHaveLength(1);

    const [end] = chain([{ at: iso(-10_000), type: 'break-glass-end', outcome: 'success', patientId: 'demo-p-0011', correlationId: `sess-${randomUUID()}`, reasonCode: 'ended' }]);
    expect((await ingest([end!])).status).toBe(200);
    const [closed, ...none] = await alerts('demo-p-0011');
    expect(none).toHaveLength(0);
    expect(closed!.detail).toMatchObject({ endedAt: iso(-10_000), endReason: 'ended', endSeq: end!.seq });
  });

  it('a restricted patient raises a high alert; a code outside the reason list is not copied', async () => {
    const entries = chain([
      { at: iso(-5_000), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0001', correlationId: `corr-${randomUUID()}`, reasonCode: 'NOT_A_REASON' },
    ]);
    expect((await ingest(entries)).status).toBe(200);
    const list = await alerts('demo-p-0001');
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ severity: 'high', detail: { reason: 'unknown', restricted: true, knownPatient: true } });
  });

  it('a grant made online is not alerted twice when its device entry arrives (by correlation id, or by time window)', async () => {
    const justification = 'Covering the ward tonight, patient deteriorating';
    const corr = `corr-${randomUUID()}`;
    const res = await call(server, 'POST', '/v1/break-glass', {
      token: nurse, correlation: corr, body: { patientId: 'demo-p-0010', reason: 'ETREAT', justification, password: DEMO.nurse.password },
    });
    expect(res.status).toBe(200);
    expect(await alerts('demo-p-0010')).toHaveLength(1);

    // The workstation's own entry for that grant carries the same correlation id (the route's header).
    expect((await ingest(chain([{ at: iso(1_000), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0010', correlationId: corr, reasonCode: 'ETREAT' }]))).status).toBe(200);
    const once = await alerts('demo-p-0010');
    expect(once).toHaveLength(1);
    expect(once[0]!.detail).toMatchObject({ source: 'server', correlationId: corr });
    expect(JSON.stringify(once)).not.toContain(justification);

    // An older client without the shared correlation id: same user + patient within the window is the same grant.
    expect((await ingest(chain([{ at: iso(90_000), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0010', correlationId: `corr-${randomUUID()}`, reasonCode: 'ETREAT' }]))).status).toBe(200);
    expect(await alerts('demo-p-0010')).toHaveLength(1);

    // The end of the online grant closes the online alert.
    expect((await ingest(chain([{ at: iso(120_000), type: 'break-glass-end', outcome: 'success', patientId: 'demo-p-0010', correlationId: `sess-${randomUUID()}`, reasonCode: 'logout' }]))).status).toBe(200);
    expect((await alerts('demo-p-0010'))[0]!.detail).toMatchObject({ endReason: 'logout' });

    // A later offline break-glass of the same patient (well outside the window) is a new event: a second alert.
    expect((await ingest(chain([{ at: iso(3 * 3600_000), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0010', correlationId: `corr-${randomUUID()}`, reasonCode: 'BTG' }]))).status).toBe(200);
    const two = await alerts('demo-p-0010');
    expect(two).toHaveLength(2);
    expect(two.filter((a) => a.detail.source === 'device')).toHaveLength(1);
  });
});
