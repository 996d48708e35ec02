/**
 * The telemedicine core through the real API (dispatcher, handlers, vault, audit chain) with the
 * server's visit routes and relay faked (fakes.ts): visits, signalling, consent, sealed recordings,
 * the lock, access refusals, ending on logout and transport refusal, tampering, offline queueing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EhrEvent } from '../../src-shared/api';
import { createHarness, type Harness } from '../access/harness';
import { fakeTelemedicine } from './fakes';

const CANARY = 'CANARY-PHI-Zelda-Quux';
const OK_TRANSPORT = { dtlsState: 'connected', srtpCipher: 'AES_CM_128_HMAC_SHA1_80', dtlsCipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', tlsVersion: 'FEFD', framesSealed: 10, framesOpened: 9 };

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function setup(policy: Record<string, unknown> = {}) {
  const tm = fakeTelemedicine();
  h = await createHarness({ policy, telemedicine: tm.parts });
  const events: EhrEvent[] = [];
  h.ws.onEvent((e) => events.push(e));
  return { h, tm, events };
}

function chunkBytes(i: number): Buffer {
  return Buffer.concat([Buffer.from(`${CANARY} chunk ${i} `), Buffer.alloc(1000 + i, i)]);
}

async function recordingVisit(h: Harness) {
  await h.login('phil');
  const visit = await h.ok('visits.start', { patientId: 'p-canary' });
  await h.ok('visits.consent', { visitId: visit.visitId, recording: true, method: 'verbal' });
  const rec = await h.ok('recordings.start', { visitId: visit.visitId, mimeType: 'video/webm;codecs=vp8,opus' });
  return { visit, rec };
}

function vaultBytes(dir: string): string {
  return readdirSync(dir).filter((f) => f.startsWith('vault')).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
}

describe('video visits (core, faked server)', () => {
  it('a physician starts a visit and gets a link whose #k= key never reaches the server', async () => {
    const { h, tm } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-canary' });
    expect(v.status).toBe('open');
    expect(v.mediaKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(v.iceServers[0]?.urls[0]).toMatch(/^stun:/);
    const link = await h.ok('visits.link', { visitId: v.visitId, minutes: 10 });
    expect(link.url).toMatch(/^https:\/\/clinic\.example\/visit\/[A-Za-z0-9_-]{43}#k=/);
    expect(link.url.endsWith(`#k=${v.mediaKey}`)).toBe(true);
    expect(tm.server.dump()).not.toContain(v.mediaKey);
    expect(tm.hub.peers.get(v.visitId)?.token).toBe('access-u-phys');
    expect((await h.ok('visits.active', {})).map((x) => x.visitId)).toEqual([v.visitId]);
    const audit = h.since(0).filter((e) => e.type === 'visit-start');
    expect(audit).toHaveLength(1);
    expect(audit[0]?.resourceRefs).toEqual([`Encounter/${v.visitId}`]);
  });

  it('signalling: offer out through the socket, answer and ice back as visits.signal events', async () => {
    const { h, tm, events } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    expect(await h.ok('visits.signal', { visitId: v.visitId, message: { type: 'offer', sdp: 'v=0 offer' } })).toEqual({ sent: true });
    expect(tm.hub.peers.get(v.visitId)?.fromHost).toEqual([{ type: 'offer', sdp: 'v=0 offer' }]);
    tm.hub.fromPatient(v.visitId, { type: 'answer', sdp: 'v=0 answer' });
    tm.hub.fromPatient(v.visitId, { type: 'ice', candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    const got = events.filter((e) => e.event === 'visits.signal').map((e) => e.payload);
    expect(got).toEqual([
      { visitId: v.visitId, message: { type: 'answer', sdp: 'v=0 answer' } },
      { visitId: v.visitId, message: { type: 'ice', candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } },
    ]);
    // The server's own kinds cannot be sent by the renderer.
    const r = await h.call('visits.signal', { visitId: v.visitId, message: { type: 'ended', reason: 'ended' } } as never);
    expect(r.ok ? null : r.error.code).toBe('INVALID');
  });

  it('recording: canary chunks round-trip to identical bytes and never appear on the server, in the vault or the audit', async () => {
    const { h, tm } = await setup();
    const { visit, rec } = await recordingVisit(h);
    expect(rec.status).toBe('recording');
    const sent = [0, 1, 2, 3, 4].map(chunkBytes);
    for (const [seq, b] of sent.entries()) expect(await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq, data: b.toString('base64') })).toEqual({ stored: true });
    // A renderer retry of a stored chunk is a no-op; a different chunk at that seq is refused.
    expect(await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 1, data: sent[1]!.toString('base64') })).toEqual({ stored: true });
    const clash = await h.call('recordings.chunk', { recordingId: rec.recordingId, seq: 1, data: sent[2]!.toString('base64') });
    expect(clash.ok ? null : clash.error.code).toBe('CONFLICT');
    const done = await h.ok('recordings.finish', { recordingId: rec.recordingId });
    expect(done.status).toBe('complete');
    expect(done.chunkCount).toBe(5);

    const list = await h.ok('recordings.list', { patientId: 'p-canary' });
    expect(list).toHaveLength(1);
    expect(list[0]?.mimeType).toBe('video/webm;codecs=vp8,opus');
    expect(list[0]?.title).toMatch(/^Video visit recording /);

    const page1 = await h.ok('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 3, purpose: 'view' });
    const page2 = await h.ok('recordings.read', { recordingId: rec.recordingId, from: 3, limit: 3, purpose: 'view' });
    expect(page1.done).toBe(false);
    expect(page2.done).toBe(true);
    const back = [...page1.chunks, ...page2.chunks].map((c) => Buffer.from(c.data, 'base64'));
    expect(back).toEqual(sent);

    expect(tm.server.dump()).not.toContain(CANARY);
    expect(tm.server.dump()).not.toContain(Buffer.from(CANARY).toString('base64'));
    expect(vaultBytes(h.dir)).not.toContain(CANARY);
    const audit = h.since(0);
    expect(JSON.stringify(audit)).not.toContain(CANARY);
    const types = audit.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['visit-start', 'visit-consent', 'recording-start', 'recording-view']));
    expect(audit.filter((e) => e.type === 'recording-view')).toHaveLength(1); // the first page only
    const start = audit.find((e) => e.type === 'recording-start');
    expect(start?.resourceRefs).toEqual([`Encounter/${visit.visitId}`, `Media/${rec.recordingId}`]);
    // Download is audited as such, with at least low severity.
    await h.ok('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 1, purpose: 'download' });
    const dl = h.since(0).find((e) => e.type === 'recording-download');
    expect(dl?.severity).toBe('low');
  });

  it('recording needs consent, and an oversized chunk is refused', async () => {
    const { h } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    const r = await h.call('recordings.start', { visitId: v.visitId, mimeType: 'video/webm' });
    expect(r.ok ? null : r.error.code).toBe('FORBIDDEN');
    await h.ok('visits.consent', { visitId: v.visitId, recording: true, method: 'patient-page' });
    const rec = await h.ok('recordings.start', { visitId: v.visitId, mimeType: 'video/webm' });
    // 512 KiB + 3 bytes: still within the IPC schema's base64 length, over the decoded limit.
    const big = Buffer.alloc(512 * 1024 + 1, 7).toString('base64');
    const res = await h.call('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: big });
    expect(res.ok ? null : res.error.code).toMatch(/TOO_LARGE|INVALID/);
  });

  it('a nurse outside the care team and a billing user are refused recordings.read and recordings.list', async () => {
    const { h } = await setup();
    const { rec } = await recordingVisit(h);
    await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: chunkBytes(0).toString('base64') });
    await h.ok('recordings.finish', { recordingId: rec.recordingId });
    await h.ok('auth.logout', {});
    for (const who of ['sam', 'bill']) {
      await h.login(who);
      const list = await h.call('recordings.list', { patientId: 'p-canary' });
      expect(list.ok ? null : list.error.code).toBe('FORBIDDEN');
      const read = await h.call('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 1, purpose: 'view' });
      expect(read.ok ? null : read.error.code).toBe('FORBIDDEN');
      expect(JSON.stringify(read)).not.toContain(CANARY);
      await h.ok('auth.logout', {});
    }
  });

  it('a locked session still relays visits.signal and stores recordings.chunk while records.list answers LOCKED', async () => {
    const { h, tm, events } = await setup();
    const { visit, rec } = await recordingVisit(h);
    h.ws.lockNow('screen-lock');
    const records = await h.call('records.list', { patientId: 'p-canary' });
    expect(records.ok ? null : records.error.code).toBe('LOCKED');
    expect(await h.ok('visits.signal', { visitId: visit.visitId, message: { type: 'ice', candidate: 'c', sdpMid: null, sdpMLineIndex: null } })).toEqual({ sent: true });
    tm.hub.fromPatient(visit.visitId, { type: 'bye' });
    expect(events.some((e) => e.event === 'visits.signal' && e.payload.message.type === 'bye')).toBe(true);
    expect(await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: chunkBytes(0).toString('base64') })).toEqual({ stored: true });
    expect((await h.ok('visits.transport', { visitId: visit.visitId, ...OK_TRANSPORT })).accepted).toBe(true);
    expect(tm.server.recordings.get(rec.recordingId)?.chunks.size).toBe(1);
    // Reading a recording is PHI: locked means no.
    const read = await h.call('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 1, purpose: 'view' });
    expect(read.ok ? null : read.error.code).toBe('LOCKED');
    expect(await h.ok('visits.end', { visitId: visit.visitId })).toEqual({ ended: true });
  });

  it('logout ends the visit: the server is told (the patient gets ended) and the renderer gets visits.ended', async () => {
    const { h, tm, events } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    await h.ok('auth.logout', {});
    expect(tm.server.visits.get(v.visitId)?.patientEnded).toBe(true);
    expect(tm.hub.peers.get(v.visitId)?.open).toBe(false);
    expect(events.filter((e) => e.event === 'visits.ended').map((e) => e.payload)).toEqual([{ visitId: v.visitId, reason: 'signed-out' }]);
    expect(h.since(0).find((e) => e.type === 'visit-end')?.reasonCode).toBe('signed-out');
  });

  it('switching user does not end the visit; the server ending it does', async () => {
    const { h, tm, events } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    await h.ok('auth.switchUser', {});
    expect(events.some((e) => e.event === 'visits.ended')).toBe(false);
    tm.hub.serverEnds(v.visitId, 'expired');
    await new Promise((r) => setTimeout(r, 10));
    expect(events.filter((e) => e.event === 'visits.ended').map((e) => e.payload)).toEqual([{ visitId: v.visitId, reason: 'expired' }]);
  });

  it('a refused transport ends the visit (audited with the cipher) and emits transport-refused', async () => {
    const { h, tm, events } = await setup();
    await h.login('phil');
    const v = await h.ok('visits.start', { patientId: 'p-own' });
    const verdict = await h.ok('visits.transport', { visitId: v.visitId, ...OK_TRANSPORT, srtpCipher: 'AES_CM_128_HMAC_SHA1_32' });
    expect(verdict.accepted).toBe(false);
    expect(verdict.reason).toMatch(/SRTP/);
    expect(tm.server.visits.get(v.visitId)?.status).toBe('ended');
    expect(events.filter((e) => e.event === 'visits.ended').map((e) => e.payload)).toEqual([{ visitId: v.visitId, reason: 'transport-refused' }]);
    const t = h.since(0).find((e) => e.type === 'visit-transport');
    expect(t?.outcome).toBe('denied');
    expect(t?.reasonCode).toBe('AES_CM_128_HMAC_SHA1_32');
    const again = await h.call('visits.signal', { visitId: v.visitId, message: { type: 'bye' } });
    expect(again.ok ? null : again.error.code).toBe('NOT_FOUND');
  });

  it('IT policy off refuses visits (and recording)', async () => {
    const { h } = await setup({ videoVisits: false });
    await h.login('phil');
    const r = await h.call('visits.start', { patientId: 'p-own' });
    expect(r.ok ? null : r.error.code).toBe('FORBIDDEN');
    await h.close();
    const s2 = await setup({ visitRecording: false });
    await s2.h.login('phil');
    const v = await s2.h.ok('visits.start', { patientId: 'p-own' });
    expect(v.recordingAllowed).toBe(false);
    await s2.h.ok('visits.consent', { visitId: v.visitId, recording: true, method: 'verbal' });
    const rec = await s2.h.call('recordings.start', { visitId: v.visitId, mimeType: 'video/webm' });
    expect(rec.ok ? null : rec.error.code).toBe('FORBIDDEN');
  });

  it('only a host may start a visit, and only for an accessible patient', async () => {
    const { h } = await setup();
    await h.login('nina');
    const n = await h.call('visits.start', { patientId: 'p-own' });
    expect(n.ok ? null : n.error.code).toBe('FORBIDDEN');
    await h.ok('auth.logout', {});
    await h.login('phil');
    const o = await h.call('visits.start', { patientId: 'p-other' });
    expect(o.ok ? null : o.error.code).toBe('FORBIDDEN');
  });

  it('a tampered chunk fails with INTEGRITY and a PHI-free error', async () => {
    const { h, tm } = await setup();
    const { rec } = await recordingVisit(h);
    await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: chunkBytes(0).toString('base64') });
    tm.server.tamper(rec.recordingId, 0);
    const r = await h.call('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 1, purpose: 'view' });
    expect(r.ok ? null : r.error.code).toBe('INTEGRITY');
    expect(JSON.stringify(r)).not.toContain(CANARY);
    expect(JSON.stringify(r)).not.toContain('p-canary');
  });

  it('offline: a chunk is kept sealed in the vault, then the sync loop sends it', async () => {
    const { h, tm } = await setup();
    const { rec } = await recordingVisit(h);
    tm.server.online = false;
    expect(await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: chunkBytes(0).toString('base64') })).toEqual({ stored: true });
    expect(await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 1, data: chunkBytes(1).toString('base64') })).toEqual({ stored: true });
    const fin = await h.ok('recordings.finish', { recordingId: rec.recordingId });
    expect(fin.status).toBe('recording');
    expect(h.ws.telemedicine?.recordings.pendingCount()).toBe(2);
    const rows = h.ws.vault.db.prepare('SELECT envelope FROM recording_chunks_pending').all() as Array<{ envelope: string }>;
    expect(rows.map((r) => r.envelope).join('')).not.toContain(CANARY);
    tm.server.online = true;
    // What the sync loop runs after an idle cycle.
    await h.ws.telemedicine?.recordings.flush(h.ws.sessions.front!);
    expect(h.ws.telemedicine?.recordings.pendingCount()).toBe(0);
    expect(tm.server.recordings.get(rec.recordingId)?.rec.status).toBe('complete');
    const page = await h.ok('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 4, purpose: 'view' });
    expect(page.chunks.map((c) => Buffer.from(c.data, 'base64'))).toEqual([chunkBytes(0), chunkBytes(1)]);
  });

  it('delete: host deletes with a reason, audited low, chunks gone', async () => {
    const { h, tm } = await setup();
    const { rec } = await recordingVisit(h);
    await h.ok('recordings.chunk', { recordingId: rec.recordingId, seq: 0, data: chunkBytes(0).toString('base64') });
    const del = await h.ok('recordings.delete', { recordingId: rec.recordingId, reason: 'recorded by mistake' });
    expect(del.status).toBe('deleted');
    expect(tm.server.recordings.get(rec.recordingId)?.chunks.size).toBe(0);
    const a = h.since(0).find((e) => e.type === 'recording-delete');
    expect(a?.severity).toBe('low');
    expect(a?.resourceRefs).toContain(`Media/${rec.recordingId}`);
  });
});

describe('dispatcher and LOCKED_CHANNELS', () => {
  it('locked channels still need a session; the rest answer LOCKED while locked', async () => {
    const { h } = await setup();
    const none = await h.call('visits.signal', { visitId: 'v1', message: { type: 'bye' } });
    expect(none.ok ? null : none.error.code).toBe('NO_SESSION');
    await h.login('phil');
    h.ws.lockNow('screen-lock');
    for (const c of ['visits.start', 'visits.link', 'visits.consent', 'recordings.start', 'recordings.list', 'recordings.read', 'recordings.delete', 'visits.active'] as const) {
      const r = await h.call(c, {} as never);
      expect(r.ok ? null : r.error.code, c).toBe('LOCKED');
    }
    // Past the lock, a locked channel still goes through every other guard (here: the registry).
    const sig = await h.call('visits.signal', { visitId: 'v1', message: { type: 'bye' } });
    expect(sig.ok ? null : sig.error.code).toBe('NOT_FOUND');
  });
});
