/**
 * Issue 15, server side: video visits, one-time patient links, signalling relay and sealed
 * recordings, on PGlite and PostgreSQL. Every refusal is the right status with a PHI-free body;
 * a canary sealed into chunks and metadata never reaches storage or logs in plaintext.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { open, seal } from '../../src-shared/node/envelope';
import type { Recording, SignalMessage, Visit, VisitLink, WireEnvelope } from '../../src-shared/sync';
import { turnCredential } from '../../src-server/services/turn';
import { purgeExpiredRecordings } from '../../src-server/services/recordings';
import { DEMO, VARIANTS, call, dumpDatabaseText, enrollDevice, login, startTestServer, type TestServer } from './helpers';

const WARD_A = 'demo-p-0002';
const WARD_B = 'demo-p-0011';
const CANARY = 'CANARY-PHI-Zelda-Quux';
const key = randomBytes(32);

const meta = (recordingId: string, patientId: string): WireEnvelope =>
  seal({ recordId: recordingId, patientId, resourceType: 'Media', version: 1, keyId: `${patientId}-k` }, Buffer.from(JSON.stringify({ resourceType: 'Media', note: [{ text: CANARY }] })), key) as WireEnvelope;
const chunk = (recordingId: string, patientId: string, seq: number, bytes: Buffer): WireEnvelope =>
  seal({ recordId: recordingId, patientId, resourceType: 'Binary', version: seq + 1, keyId: `${patientId}-k` }, bytes, key) as WireEnvelope;

/** A ws client that collects every message. */
function socket(url: string, server: TestServer, headers: Record<string, string> = {}) {
  const messages: SignalMessage[] = [];
  const ws = new WebSocket(url.replace(/^https/, 'wss'), { ca: server.caCert, headers, minVersion: 'TLSv1.3' });
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as SignalMessage));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`http ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return { ws, messages, opened, closed };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(VARIANTS)('video visits on $name', (variant) => {
  let server: TestServer;
  let doctor: string;
  let doctor2: string;
  let nurse: string;
  let billing: string;
  let privacy: string;
  beforeAll(async () => {
    server = await startTestServer(variant, { config: { turn: { urls: ['turn:turn.example:3478'], secret: 'turn-secret', ttlSeconds: 600 } } });
    const dev = await enrollDevice(server);
    doctor = (await login(server, DEMO.doctor, dev.deviceId)).accessToken;
    doctor2 = (await login(server, DEMO.doctor2, dev.deviceId)).accessToken;
    nurse = (await login(server, DEMO.nurse, dev.deviceId)).accessToken;
    billing = (await login(server, DEMO.billing, dev.deviceId)).accessToken;
    privacy = (await login(server, DEMO.privacy, dev.deviceId)).accessToken;
  });
  afterAll(async () => server?.stop());

  const start = async (token: string, patientId: string) => call<Visit>(server, 'POST', '/v1/visits', { token, body: { patientId } });
  const link = async (visitId: string, token = doctor, minutes = 15) => call<VisitLink>(server, 'POST', `/v1/visits/${visitId}/link`, { token, body: { minutes } });
  const tokenOf = (url: string) => url.split('/visit/')[1]!;

  it('only a physician with access to the patient starts a visit (IDOR refused, audited)', async () => {
    expect((await start(nurse, WARD_A)).status).toBe(403);
    expect((await start(billing, WARD_A)).status).toBe(403);
    const other = await start(doctor, WARD_B);
    expect(other.status).toBe(403);
    expect(other.text).not.toContain(WARD_B);
    const ok = await start(doctor, WARD_A);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ patientId: WARD_A, status: 'open', recordingConsent: null });
    const denied = await server.db.query<{ outcome: string }>("SELECT outcome FROM server_audit WHERE type = 'visit-start' AND patient_id = $1", [WARD_B]);
    expect(denied.map((r) => r.outcome)).toContain('denied');
    // Another physician cannot act on the visit: it does not exist for them.
    expect((await link(ok.body.visitId, doctor2)).status).toBe(404);
  });

  it('serves TLS 1.3 only', async () => {
    const url = new URL(server.url);
    const err = await new Promise<Error | null>((resolve) => {
      const s = tls.connect({ host: url.hostname, port: Number(url.port), maxVersion: 'TLSv1.2', rejectUnauthorized: false }, () => resolve(null));
      s.on('error', (e) => resolve(e));
    });
    expect(err).not.toBeNull();
  });

  it('relays signalling between the host and the patient; a link is single use, revocable and expires', async () => {
    const visit = (await start(doctor, WARD_A)).body;
    const l = (await link(visit.visitId)).body;
    expect(l.url.startsWith(server.url)).toBe(true);
    const token = tokenOf(l.url);
    expect(await dumpDatabaseText(server)).not.toContain(token);

    const page = await call(server, 'GET', `/visit/${token}`, { correlation: false });
    expect([200, 503]).toContain(page.status);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');

    const anonymous = socket(`${server.url}/v1/visits/${visit.visitId}/signal`, server);
    await expect(anonymous.opened).rejects.toThrow(/http 401/);
    const wrongHost = socket(`${server.url}/v1/visits/${visit.visitId}/signal`, server, { authorization: `Bearer ${doctor2}` });
    await expect(wrongHost.opened).rejects.toThrow(/http 404/);

    const host = socket(`${server.url}/v1/visits/${visit.visitId}/signal`, server, { authorization: `Bearer ${doctor}` });
    await host.opened;
    const patient = socket(`${server.url}/visit/${token}/signal`, server);
    await patient.opened;
    await until(() => patient.messages.some((m) => m.type === 'welcome') && host.messages.some((m) => m.type === 'peer'));
    const welcome = patient.messages.find((m) => m.type === 'welcome') as Extract<SignalMessage, { type: 'welcome' }>;
    expect(welcome.iceServers[0]!.urls).toEqual(['turn:turn.example:3478']);

    host.ws.send(JSON.stringify({ type: 'offer', sdp: 'v=0 offer' }));
    await until(() => patient.messages.some((m) => m.type === 'offer'));
    patient.ws.send(JSON.stringify({ type: 'answer', sdp: 'v=0 answer' }));
    patient.ws.send(JSON.stringify({ type: 'ice', candidate: 'candidate:1 1 udp 1 192.0.2.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 }));
    await until(() => host.messages.some((m) => m.type === 'answer') && host.messages.some((m) => m.type === 'ice'));

    // The link was consumed by the join: a second browser is refused before the upgrade.
    const second = socket(`${server.url}/visit/${token}/signal`, server);
    await expect(second.opened).rejects.toThrow(/http 404/);
    expect((await call(server, 'GET', `/visit/${token}`, { correlation: false })).status).toBe(410);

    // A peer may not speak for the server, nor send oversized messages.
    patient.ws.send(JSON.stringify({ type: 'ended', reason: 'ended' }));
    expect(await patient.closed).toBe(1008);
    await until(() => host.messages.some((m) => m.type === 'peer' && !m.present));
    host.ws.send('x'.repeat(60_000));
    expect([1009, 1006]).toContain(await host.closed);
    expect(JSON.stringify(server.logs)).not.toContain('v=0 offer');

    // Revoked and expired links.
    const l2 = (await link(visit.visitId)).body;
    expect((await call(server, 'POST', `/v1/visits/${visit.visitId}/link/revoke`, { token: doctor, body: {} })).status).toBe(200);
    await expect(socket(`${server.url}/visit/${tokenOf(l2.url)}/signal`, server).opened).rejects.toThrow(/http 404/);
    const l3 = (await link(visit.visitId)).body;
    const l4 = (await link(visit.visitId)).body; // a newer link revokes the older unused one
    await expect(socket(`${server.url}/visit/${tokenOf(l3.url)}/signal`, server).opened).rejects.toThrow(/http 404/);
    await server.db.query('UPDATE visit_links SET expires_at = now() - interval \'1 minute\'');
    await expect(socket(`${server.url}/visit/${tokenOf(l4.url)}/signal`, server).opened).rejects.toThrow(/http 404/);
  });

  it('ending the visit, or signing out, closes both sockets with the reason', async () => {
    for (const how of ['end', 'logout'] as const) {
      const dev = await enrollDevice(server);
      const session = how === 'logout' ? await login(server, DEMO.doctor, dev.deviceId) : null;
      const token = session?.accessToken ?? doctor;
      const visit = (await start(token, WARD_A)).body;
      const l = (await link(visit.visitId, token)).body;
      const host = socket(`${server.url}/v1/visits/${visit.visitId}/signal`, server, { authorization: `Bearer ${token}` });
      await host.opened;
      const patient = socket(`${server.url}/visit/${tokenOf(l.url)}/signal`, server);
      await patient.opened;
      if (how === 'end') expect((await call<Visit>(server, 'POST', `/v1/visits/${visit.visitId}/end`, { token, body: {} })).body.status).toBe('ended');
      else expect((await call(server, 'POST', '/v1/auth/logout', { token, body: { refreshToken: session!.refreshToken } })).status).toBe(200);
      await patient.closed;
      const ended = patient.messages.find((m) => m.type === 'ended');
      expect(ended).toEqual({ type: 'ended', reason: how === 'end' ? 'ended' : 'signed-out' });
    }
  });

  it('TURN credentials follow the TURN REST API and expire', async () => {
    const res = await call<{ iceServers: Array<{ username: string; credential: string }>; ttlSeconds: number }>(server, 'GET', '/v1/visits/ice', { token: doctor });
    const ice = res.body.iceServers[0]!;
    const [expiry, user] = ice.username.split(':');
    expect(user).toBe('u-physician');
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(590);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThan(610);
    expect(ice.credential).toBe(turnCredential('turn-secret', ice.username));
  });

  it('stores recordings sealed: consent first, idempotent chunks, complete only without gaps, access-checked reads, audited deletion', async () => {
    const visit = (await start(doctor, WARD_A)).body;
    const recordingId = `rec-${randomUUID()}`;
    const startRec = () => call<Recording>(server, 'POST', `/v1/visits/${visit.visitId}/recordings`, { token: doctor, body: { recordingId, meta: meta(recordingId, WARD_A) } });
    expect((await startRec()).status).toBe(403);
    await call(server, 'POST', `/v1/visits/${visit.visitId}/consent`, { token: doctor, body: { recording: true, method: 'verbal' } });
    expect((await startRec()).status).toBe(200);
    // Metadata bound to another patient is refused.
    const badMeta = await call(server, 'POST', `/v1/visits/${visit.visitId}/recordings`, { token: doctor, body: { recordingId: `rec-${randomUUID()}`, meta: meta('x', WARD_B) } });
    expect(badMeta.status).toBe(400);

    const bytes = [0, 1, 2].map((i) => Buffer.concat([Buffer.from(`${CANARY}-${i}-`), randomBytes(2000)]));
    const put = (seq: number, env: WireEnvelope, token = doctor) => call(server, 'PUT', `/v1/recordings/${recordingId}/chunks/${seq}`, { token, body: { envelope: env } });
    const c0 = chunk(recordingId, WARD_A, 0, bytes[0]!);
    expect((await put(0, c0)).status).toBe(200);
    expect((await put(0, c0)).status).toBe(200); // an identical retry
    expect((await put(0, chunk(recordingId, WARD_A, 0, bytes[1]!))).status).toBe(409);
    expect((await put(1, chunk(recordingId, WARD_A, 0, bytes[1]!))).status).toBe(400); // wrong position in the AAD
    expect((await put(2, chunk(recordingId, WARD_A, 2, bytes[2]!))).status).toBe(200);
    expect((await put(1, chunk(recordingId, WARD_A, 1, bytes[1]!), doctor2)).status).toBe(404);
    const gap = await call(server, 'POST', `/v1/recordings/${recordingId}/finish`, { token: doctor, body: { chunkCount: 3 } });
    expect(gap.status).toBe(409);
    expect((await put(1, chunk(recordingId, WARD_A, 1, bytes[1]!))).status).toBe(200);
    expect((await call<Recording>(server, 'POST', `/v1/recordings/${recordingId}/finish`, { token: doctor, body: { chunkCount: 3 } })).body.status).toBe('complete');

    const dump = await dumpDatabaseText(server);
    expect(dump).not.toContain(CANARY);
    expect(JSON.stringify(server.logs)).not.toContain(CANARY);

    // Reads: the nurse of the care team may; another ward's physician, billing and the privacy officer may not.
    const list = await call<{ recordings: Recording[] }>(server, 'GET', `/v1/patients/${WARD_A}/recordings`, { token: nurse });
    expect(list.body.recordings.some((r) => r.recordingId === recordingId)).toBe(true);
    const page = await call<{ chunks: Array<{ seq: number; envelope: WireEnvelope }> }>(server, 'GET', `/v1/recordings/${recordingId}/chunks?from=0&limit=16`, { token: nurse });
    expect(page.body.chunks.map((c) => c.seq)).toEqual([0, 1, 2]);
    expect(page.body.chunks.map((c) => open(c.envelope, key))).toEqual(bytes);
    for (const t of [doctor2, billing, privacy]) {
      const refused = await call(server, 'GET', `/v1/recordings/${recordingId}/chunks?from=0`, { token: t });
      expect(refused.status).toBe(403);
      expect((await call(server, 'GET', `/v1/patients/${WARD_A}/recordings`, { token: t })).status).toBe(403);
    }

    // Deletion: not by another physician; by the host, with chunks erased and the access log kept.
    expect((await call(server, 'POST', `/v1/recordings/${recordingId}/delete`, { token: doctor2, body: { reason: 'not mine' } })).status).toBe(403);
    const del = await call<Recording>(server, 'POST', `/v1/recordings/${recordingId}/delete`, { token: doctor, body: { reason: 'recorded by mistake' } });
    expect(del.body).toMatchObject({ status: 'deleted', meta: null });
    expect(await server.db.query('SELECT 1 FROM recording_chunks WHERE recording_id = $1', [recordingId])).toHaveLength(0);
    const log = await call<{ events: Array<{ action: string; userId: string }> }>(server, 'GET', `/v1/privacy/recording-access?recordingId=${recordingId}`, { token: privacy });
    expect(log.body.events.map((e) => e.action).sort()).toEqual(['delete', 'record', 'view']);
    expect((await call(server, 'GET', `/v1/privacy/recording-access?recordingId=${recordingId}`, { token: nurse })).status).toBe(403);
  });

  it('purges recordings past their retention', async () => {
    const visit = (await start(doctor, WARD_A)).body;
    await call(server, 'POST', `/v1/visits/${visit.visitId}/consent`, { token: doctor, body: { recording: true, method: 'verbal' } });
    const recordingId = `rec-${randomUUID()}`;
    await call(server, 'POST', `/v1/visits/${visit.visitId}/recordings`, { token: doctor, body: { recordingId, meta: meta(recordingId, WARD_A) } });
    await call(server, 'PUT', `/v1/recordings/${recordingId}/chunks/0`, { token: doctor, body: { envelope: chunk(recordingId, WARD_A, 0, Buffer.from('x')) } });
    await server.db.query("UPDATE recordings SET delete_after = now() - interval '1 day' WHERE id = $1", [recordingId]);
    const ctx = { db: server.db, now: () => new Date(), config: {} } as unknown as Parameters<typeof purgeExpiredRecordings>[0];
    expect(await purgeExpiredRecordings(ctx)).toBeGreaterThanOrEqual(1);
    const [row] = await server.db.query<{ status: string }>('SELECT status FROM recordings WHERE id = $1', [recordingId]);
    expect(row!.status).toBe('deleted');
    expect(await server.db.query("SELECT 1 FROM recording_access WHERE recording_id = $1 AND action = 'purge'", [recordingId])).toHaveLength(1);
  });
});
