/**
 * The telemedicine core against the REAL sync server (pinned TLS, real keychain, SQLCipher vault):
 * the physician's main process opens the pinned signalling socket, a patient page (a ws client on
 * its one-time link) talks to it through the server, a recording with a canary round-trips to
 * identical bytes and never reaches the server's storage or log in plaintext, and signing out ends
 * the visit on the patient's side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../../src-server/index';
import type { LogLine } from '../../src-server/http/log';
import type { EhrEvent } from '../../src-shared/api';
import type { RecordingChunkPage, RecordingView, VisitLinkView, VisitSession } from '../../src-shared/api/types';
import type { SignalMessage } from '../../src-shared/sync';
import type { Workstation } from '../../src-main/core/workstation';
import { dumpDatabaseText } from '../server/helpers';
import { ok, tempDirs } from '../session/real-stack';
import { closeStack, doctorWorkstation } from './helpers/doctor-stack';

const CANARY = 'CANARY-PHI-Zelda-Quux';
const PATIENT = 'demo-p-0002';
let server: RunningServer & { caCert?: string };
let ws: Workstation;
const logs: LogLine[] = [];
const events: EhrEvent[] = [];
const dirs = tempDirs();

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: (l) => logs.push(l) });
  ws = await doctorWorkstation(server, dirs, { name: 'visit test' });
  ws.onEvent((e) => events.push(e));
}, 120_000);

afterAll(() => closeStack(ws, server, dirs));

describe('video visit through the real server', () => {
  it('signalling, a sealed recording and sign-out, end to end in Node', async () => {
    const visit = await ok<VisitSession>(ws.invoke('visits.start', { patientId: PATIENT }));
    const link = await ok<VisitLinkView>(ws.invoke('visits.link', { visitId: visit.visitId, minutes: 10 }));
    expect(link.url.startsWith(`${server.url}/visit/`)).toBe(true);
    const [base, fragment] = link.url.split('#k=');
    expect(fragment).toBe(visit.mediaKey);

    // The patient's page joins on its link (TLS 1.3, the server's CA).
    const fromServer: SignalMessage[] = [];
    const patient = new WebSocket(`${base!.replace(/^https/, 'wss')}/signal`, { ca: server.caCert, minVersion: 'TLSv1.3' });
    patient.on('message', (d) => fromServer.push(JSON.parse(String(d)) as SignalMessage));
    await new Promise<void>((resolve, reject) => {
      patient.once('open', () => resolve());
      patient.once('error', reject);
    });
    await until(() => fromServer.some((m) => m.type === 'peer' && m.present));

    // Host → patient through main's pinned socket, and back as a visits.signal event.
    await ok(ws.invoke('visits.signal', { visitId: visit.visitId, message: { type: 'offer', sdp: 'v=0 offer-from-host' } }));
    await until(() => fromServer.some((m) => m.type === 'offer'));
    patient.send(JSON.stringify({ type: 'answer', sdp: 'v=0 answer-from-patient' }));
    await until(() => events.some((e) => e.event === 'visits.signal' && e.payload.message.type === 'answer'));

    // Consent, then a recording whose chunks carry the canary.
    await ok(ws.invoke('visits.consent', { visitId: visit.visitId, recording: true, method: 'verbal' }));
    const rec = await ok<RecordingView>(ws.invoke('recordings.start', { visitId: visit.visitId, mimeType: 'video/webm;codecs=vp8,opus' }));
    const chunks = [0, 1, 2].map((i) => Buffer.concat([Buffer.from(`${CANARY} chunk ${i} `), Buffer.alloc(3000 + i, i)]));
    for (const [seq, bytes] of chunks.entries()) {
      expect(await ok(ws.invoke('recordings.chunk', { recordingId: rec.recordingId, seq, data: bytes.toString('base64') }))).toEqual({ stored: true });
    }
    expect((await ok<RecordingView>(ws.invoke('recordings.finish', { recordingId: rec.recordingId }))).status).toBe('complete');

    const listed = await ok<RecordingView[]>(ws.invoke('recordings.list', { patientId: PATIENT }));
    expect(listed.find((r) => r.recordingId === rec.recordingId)).toMatchObject({ status: 'complete', chunkCount: 3 });
    const page = await ok<RecordingChunkPage>(ws.invoke('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 16 }));
    expect(page.chunks.map((c) => Buffer.from(c.data, 'base64'))).toEqual(chunks);

    const storage = await dumpDatabaseText(server);
    expect(storage).not.toContain(CANARY);
    expect(storage).not.toContain(visit.mediaKey);
    expect(JSON.stringify(logs)).not.toContain(CANARY);
    expect(JSON.stringify(logs)).not.toContain('offer-from-host');
    const access = await server.db.query<{ action: string }>('SELECT action FROM recording_access WHERE recording_id = $1 ORDER BY id', [rec.recordingId]);
    expect(access.map((a) => a.action)).toEqual(['record', 'view']);

    // Signing out ends the call on the patient's side.
    const closed = new Promise<void>((resolve) => patient.once('close', () => resolve()));
    await ok(ws.invoke('auth.logout', {}));
    await closed;
    expect(fromServer.some((m) => m.type === 'ended')).toBe(true);
    await until(() => events.some((e) => e.event === 'visits.ended' && e.payload.visitId === visit.visitId));
  });
});
