/**
 * After the workstation restarts (same data folder, same keychain entry, real server), playing a
 * recording back before the chart's Recordings list was fetched gives the recording's own content
 * type from its sealed FHIR Media, not a guess, and knows where the recording ends.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { RecordingChunkPage, RecordingView, VisitSession } from '../../src-shared/api/types';
import { createKeytarKeyStore } from '../../src-main/core/keychain';
import { createWorkstation, type Workstation } from '../../src-main/core/workstation';
import { forgetWorkstationKeys, ok, startEnrolledWorkstation, tempDirs } from '../session/real-stack';

const PATIENT = 'demo-p-0003';
const MIME = 'video/webm;codecs=vp9,opus';
const dirs = tempDirs();
const keyStore = createKeytarKeyStore(`clinic-ehr-test-${randomUUID()}`);
let server: RunningServer;
let ws: Workstation | null = null;

beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 10, log: () => undefined });
}, 120_000);

afterAll(async () => {
  await ws?.close();
  await server?.close();
  await forgetWorkstationKeys(keyStore);
  dirs.removeAll();
});

describe('a recording read first thing after a restart', () => {
  it('plays with its sealed content type and ends where it was finished', async () => {
    const dataDir = dirs.make('ehr-ws-');
    ws = await startEnrolledWorkstation(server, { dataDir, keyStore, name: 'restart test' });
    await ok(ws.invoke('auth.login', { username: 'doctor', password: 'demo-doctor-2026' }));
    await ok(ws.invoke('sync.now', {}));
    const visit = await ok<VisitSession>(ws.invoke('visits.start', { patientId: PATIENT }));
    await ok(ws.invoke('visits.consent', { visitId: visit.visitId, recording: true, method: 'verbal' }));
    const rec = await ok<RecordingView>(ws.invoke('recordings.start', { visitId: visit.visitId, mimeType: MIME }));
    const chunks = [0, 1, 2].map((i) => Buffer.concat([Buffer.from(`chunk ${i} `), Buffer.alloc(2000 + i * 7, i + 1)]));
    for (const [seq, bytes] of chunks.entries()) await ok(ws.invoke('recordings.chunk', { recordingId: rec.recordingId, seq, data: bytes.toString('base64') }));
    await ok(ws.invoke('recordings.finish', { recordingId: rec.recordingId }));
    await ok(ws.invoke('visits.end', { visitId: visit.visitId }));
    await ws.close();
    ws = null;

    // The same workstation starts again: nothing in memory, the vault and keychain entry reused.
    ws = await createWorkstation({ dataDir, keyStore, server: { url: server.url, fingerprint: server.fingerprint } });
    await ok(ws.invoke('auth.login', { username: 'doctor', password: 'demo-doctor-2026' }));
    // A page exactly as long as the recording: only the sealed chunk count can say it is the end.
    const page = await ok<RecordingChunkPage>(ws.invoke('recordings.read', { recordingId: rec.recordingId, from: 0, limit: 3 }));
    expect(page.mimeType).toBe(MIME);
    expect(page.done).toBe(true);
    expect(page.chunks.map((c) => Buffer.from(c.data, 'base64'))).toEqual(chunks);
    // A later page of the same playback uses what was learned (and still agrees).
    const again = await ok<RecordingChunkPage>(ws.invoke('recordings.read', { recordingId: rec.recordingId, from: 2, limit: 3 }));
    expect(again).toMatchObject({ mimeType: MIME, done: true });
    expect(again.chunks.map((c) => c.seq)).toEqual([2]);
  }, 120_000);
});
