/**
 * The justification of a break-glass granted OFFLINE reaches the privacy officer: after the device's
 * signed break-glass-start entry is ingested (which raised the alert), POST /v1/break-glass/justification
 * stores the free text sealed with the server's notes key, attached to that alert, and
 * GET /v1/privacy/break-glass shows it next to the online grants' justifications.
 *
 * Checked on PGlite and PostgreSQL: not-yet-ingested refused (retryable) then delivered; idempotent
 * retry; a different text refused and the first kept; another device's or another user's entry
 * refused (403 + server audit row); mismatching patient/reason/correlation/entry refused; the canary
 * text never in logs, error bodies, audit rows, database tables or the database's files.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src-shared/audit';
import { AlertListResponseSchema, BreakGlassListResponseSchema, OfflineJustificationResponseSchema } from '../../src-shared/sync';
import { postgresUrl } from '../helpers/postgres';
import { DEMO, VARIANTS, breakGlassChain, call, dumpDatabaseText, enrollDevice, login, startTestServer, type EnrolledDevice, type Res, type TestServer } from './helpers';

/** Canary PHI planted in the justification: a name and an MRN that must never surface in the clear. */
const CANARY_TEXT = 'Ottoline Canaryvale MRN CANARY-BG-7731 found unresponsive in bay 4';
const CANARY_MARKERS = ['Canaryvale', 'CANARY-BG-7731'];
const ONLINE_TEXT = 'Online grant: covering ward, patient deteriorating fast';

/** Every regular file under a folder, read as bytes and searched for the markers. */
function filesContaining(dir: string, markers: string[]): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const buf = readFileSync(p);
        if (markers.some((m) => buf.includes(Buffer.from(m, 'utf8')))) hits.push(p);
      }
    }
  };
  walk(dir);
  return hits;
}

describe.each(VARIANTS)('offline break-glass justification on $name', (variant) => {
  let server: TestServer;
  let dev: EnrolledDevice;
  let chain: ReturnType<typeof breakGlassChain>;
  let dev2: EnrolledDevice;
  let nurse: string;
  let nurseOnDev2: string;
  let doctorOnDev: string;
  let billing: string;
  let privacy: string;
  const responses: Res[] = [];

  beforeAll(async () => {
    server = await startTestServer(variant);
    dev = await enrollDevice(server);
    chain = breakGlassChain(dev); // links entries onto this device's chain, as the workstation's vault does
    dev2 = await enrollDevice(server);
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    nurseOnDev2 = (await login(server, DEMO.nurse, dev2.deviceId)).accessToken;
    doctorOnDev = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    billing = (await login(server, DEMO.billing, dev.deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const ingest = (entries: AuditEntry[]) => call(server, 'POST', '/v1/audit', { token: nurse, body: { deviceId: dev.deviceId, entries } });
  const deliver = async (token: string, body: Record<string, unknown>, correlation?: string | false): Promise<Res<{ code?: string; detail?: Record<string, unknown>; status?: string; alertId?: string | null }>> => {
    const res = await call<{ code?: string; detail?: Record<string, unknown> }>(server, 'POST', '/v1/break-glass/justification', {
      token, body, ...(correlation !== undefined ? { correlation } : {}),
    });
    responses.push(res);
    return res;
  };
  const review = async () => {
    const res = await call(server, 'GET', '/v1/privacy/break-glass', { token: privacy });
    expect(res.status).toBe(200);
    responses.push(res);
    return BreakGlassListResponseSchema.parse(res.body);
  };
  const serverAudit = (type: string) =>
    server.db.query<{ outcome: string; user_id: string | null; device_id: string | null; detail: Record<string, unknown> | null }>(
      'SELECT outcome, user_id, device_id, detail FROM server_audit WHERE type = $1 ORDER BY id', [type],
    );

  let start: AuditEntry;
  let body: Record<string, unknown>;

  it('an entry not ingested yet is refused with a retryable code; after ingest the text is stored sealed and attached to the alert', async () => {
    const corr = `corr-${randomUUID()}`;
    // Linked now, pushed later: the workstation may send before its chain has arrived.
    [start] = chain([
      { at: new Date().toISOString(), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0011', resourceRefs: ['Patient/demo-p-0011'], correlationId: corr, reasonCode: 'ETREAT' },
    ]) as [AuditEntry];
    body = { patientId: 'demo-p-0011', deviceId: dev.deviceId, seq: start.seq, correlationId: corr, reason: 'ETREAT', justification: CANARY_TEXT };

    const early = await deliver(nurse, body);
    expect(early.status).toBe(404);
    expect(early.body).toMatchObject({ code: 'NOT_FOUND', detail: { problem: 'not-ingested', seq: start.seq, retry: true, lastSeq: 0 } });

    expect((await ingest([start])).status).toBe(200);
    const res = await deliver(nurse, body);
    expect(res.status).toBe(200);
    const out = OfflineJustificationResponseSchema.parse(res.body);
    expect(out.status).toBe('stored');

    const alerts = AlertListResponseSchema.parse((await call(server, 'GET', '/v1/privacy/alerts', { token: privacy })).body).alerts;
    const alert = alerts.find((a) => a.kind === 'break-glass' && a.detail.seq === start.seq && a.detail.deviceId === dev.deviceId);
    expect(alert).toBeTruthy();
    expect(out.alertId).toBe(alert!.id);
    // The alert list stays ids and codes only; the text is for the break-glass review.
    expect(JSON.stringify(alerts)).not.toContain('Canaryvale');

    const rows = await serverAudit('break-glass-justification');
    expect(rows.at(-2)).toMatchObject({ outcome: 'failure', user_id: 'u-nurse', detail: { problem: 'not-ingested', seq: start.seq } });
    expect(rows.at(-1)).toMatchObject({ outcome: 'success', user_id: 'u-nurse', device_id: dev.deviceId, detail: { seq: start.seq, alertId: alert!.id, status: 'stored', reason: 'ETREAT' } });
  });

  it('the privacy review shows the offline justification next to an online grant\'s', async () => {
    const online = await call(server, 'POST', '/v1/break-glass', {
      token: nurse, body: { patientId: 'demo-p-0010', reason: 'BTG', justification: ONLINE_TEXT, password: DEMO.nurse.password },
    });
    expect(online.status).toBe(200);
    const list = await review();
    expect(list.grants.find((g) => g.patientId === 'demo-p-0010')?.justification).toBe(ONLINE_TEXT);
    const mine = list.offline?.filter((o) => o.deviceId === dev.deviceId && o.seq === start.seq) ?? [];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      patientId: 'demo-p-0011', userId: 'u-nurse', reason: 'ETREAT', justification: CANARY_TEXT, correlationId: body.correlationId,
      reviewedAt: null, endedAt: null,
    });
    expect(mine[0]!.alertId).toBeTruthy();
    expect(mine[0]!.justificationReceivedAt).toBeTruthy();

    // Reviewing it is the alert's ack; the review list then shows who and the (sealed) note.
    const ack = await call(server, 'POST', `/v1/privacy/alerts/${mine[0]!.alertId}/ack`, { token: privacy, body: { note: 'Reviewed: appropriate.' } });
    expect(ack.status).toBe(200);
    const after = (await review()).offline!.find((o) => o.alertId === mine[0]!.alertId);
    expect(after).toMatchObject({ reviewedBy: 'u-privacy', reviewNote: 'Reviewed: appropriate.', justification: CANARY_TEXT });
  });

  it('a retry after a lost answer is accepted; a different text for the same entry is refused and the first kept', async () => {
    const again = await deliver(nurse, body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'already-stored' });

    const other = await deliver(nurse, { ...body, justification: `${CANARY_TEXT} (edited later)` });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'CONFLICT', detail: { problem: 'different-text', seq: start.seq } });
    expect((await serverAudit('break-glass-justification')).at(-1)).toMatchObject({ outcome: 'failure', detail: { problem: 'different-text' } });
    const kept = (await review()).offline!.filter((o) => o.seq === start.seq && o.deviceId === dev.deviceId);
    expect(kept.map((o) => o.justification)).toEqual([CANARY_TEXT]);
  });

  it('another device\'s entry and another user\'s entry are refused (403) with a server audit row', async () => {
    // The nurse signed in on dev2 names dev's entry: refused, whatever the entry says.
    const foreignDevice = await deliver(nurseOnDev2, { ...body, justification: 'Attempt from another workstation entirely' });
    expect(foreignDevice.status).toBe(403);
    expect(foreignDevice.body).toMatchObject({ code: 'FORBIDDEN', detail: { problem: 'device' } });
    const rows = await serverAudit('break-glass-justification');
    expect(rows.at(-1)).toMatchObject({ outcome: 'denied', user_id: 'u-nurse', device_id: dev2.deviceId, detail: { problem: 'device', entryDeviceId: dev.deviceId } });

    // Naming its own device with dev's seq: dev2 has no such entry (the seq space is per device).
    const ownSeq = await deliver(nurseOnDev2, { ...body, deviceId: dev2.deviceId });
    expect(ownSeq.status).toBe(404);
    expect(ownSeq.body).toMatchObject({ detail: { problem: 'not-ingested' } });

    // Another user on the same device names the nurse's entry.
    const foreignUser = await deliver(doctorOnDev, { ...body, justification: 'Someone else writing the nurse text' });
    expect(foreignUser.status).toBe(403);
    expect(foreignUser.body).toMatchObject({ code: 'FORBIDDEN', detail: { problem: 'user' } });
    expect((await serverAudit('break-glass-justification')).at(-1)).toMatchObject({ outcome: 'denied', device_id: dev.deviceId, detail: { problem: 'user' } });

    // Neither changed what the officer sees.
    const kept = (await review()).offline!.filter((o) => o.seq === start.seq && o.deviceId === dev.deviceId);
    expect(kept.map((o) => o.justification)).toEqual([CANARY_TEXT]);
  });

  it('an entry that does not match (patient, reason, correlation id, not a granted start) is refused; roles and schema are enforced', async () => {
    const [read] = chain([{ at: new Date().toISOString(), type: 'read', outcome: 'success', patientId: 'demo-p-0011', correlationId: `corr-${randomUUID()}` }]) as [AuditEntry];
    const corr2 = `corr-${randomUUID()}`;
    const [start2] = chain([{ at: new Date().toISOString(), type: 'break-glass-start', outcome: 'success', patientId: 'demo-p-0012', correlationId: corr2, reasonCode: 'BTG' }]) as [AuditEntry];
    expect((await ingest([read, start2])).status).toBe(200);
    const good = { patientId: 'demo-p-0012', deviceId: dev.deviceId, seq: start2.seq, correlationId: corr2, reason: 'BTG', justification: CANARY_TEXT };

    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...good, seq: read.seq, patientId: 'demo-p-0011', correlationId: read.correlationId }, 400, 'entry'],
      [{ ...good, patientId: 'demo-p-0011' }, 400, 'patient'],
      [{ ...good, reason: 'ETREAT' }, 400, 'reason'],
      [{ ...good, correlationId: `corr-${randomUUID()}` }, 400, 'correlation'],
    ];
    for (const [b, status, problem] of cases) {
      const res = await deliver(nurse, b);
      expect(res.status, problem).toBe(status);
      expect(res.body, problem).toMatchObject({ code: 'INVALID', detail: { problem } });
    }
    // Schema: too short, too long, an extra field, an unknown reason; the correlation header; the role.
    expect((await deliver(nurse, { ...good, justification: 'short' })).status).toBe(400);
    expect((await deliver(nurse, { ...good, justification: `${CANARY_TEXT} ${'x'.repeat(1000)}` })).status).toBe(400);
    expect((await deliver(nurse, { ...good, extra: 1 })).status).toBe(400);
    expect((await deliver(nurse, { ...good, reason: 'NOPE' })).status).toBe(400);
    expect((await deliver(nurse, good, false)).status).toBe(403);
    expect((await deliver(billing, good)).status).toBe(403);
    // None of those stored anything; the right body still works.
    expect((await review()).offline!.find((o) => o.seq === start2.seq)?.justification).toBeNull();
    const res = await deliver(nurse, good);
    expect(res.status).toBe(200);
    expect((await review()).offline!.find((o) => o.seq === start2.seq)?.justification).toBe(CANARY_TEXT);
  });

  it('the canary text never appears in logs, error bodies, audit rows, the database tables or its files', async () => {
    const errors = responses.filter((r) => r.status >= 400).map((r) => r.text).join('\n');
    expect(errors.length).toBeGreaterThan(0);
    for (const m of CANARY_MARKERS) {
      expect(errors).not.toContain(m);
      expect(JSON.stringify(server.logs)).not.toContain(m);
    }
    const dump = await dumpDatabaseText(server);
    expect(dump).toContain('break-glass-justification');
    for (const m of CANARY_MARKERS) expect(dump).not.toContain(m);
    const sealed = await server.db.query<{ justification_sealed: string }>('SELECT justification_sealed FROM device_break_glass_justifications');
    expect(sealed.length).toBeGreaterThanOrEqual(2);
    for (const s of sealed) expect(s.justification_sealed).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    // Positive control: the scan does see plaintext the database holds (a seeded display name).
    const control = ['Nadia Nurse'];
    if (variant.name === 'pglite') {
      expect(filesContaining(server.dir, control).length).toBeGreaterThan(0);
      expect(filesContaining(server.dir, CANARY_MARKERS)).toEqual([]);
    } else {
      // The cluster's own files (heap, WAL) after a checkpoint: the superuser URL can ask where they are.
      const admin = new pg.Client({ connectionString: postgresUrl() });
      await admin.connect();
      try {
        await admin.query('CHECKPOINT');
        const { rows } = await admin.query<{ data_directory: string }>('SHOW data_directory');
        const dataDir = rows[0]!.data_directory;
        expect(filesContaining(dataDir, control).length).toBeGreaterThan(0);
        expect(filesContaining(join(dataDir, 'base'), CANARY_MARKERS)).toEqual([]);
        expect(filesContaining(join(dataDir, 'pg_wal'), CANARY_MARKERS)).toEqual([]);
      } finally {
        await admin.end();
      }
    }
  });
});
