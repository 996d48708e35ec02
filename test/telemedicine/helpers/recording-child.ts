/**
 * A real workstation core in its own process, for the recording crash test: the real vault and
 * keychain of <dataDir>, signed in over pinned TLS (through the parent's relay, which the parent can
 * cut), a visit with consent and a recording whose chunks are written through the core's API.
 * The parent SIGKILLs it at a seeded moment. Protocol (one line each way):
 *
 *   child: "recording <id>"   parent: "go"       child writes chunks, "chunk <i>" after each call resolved
 *   child: "written"          parent: "flush"    child runs sync cycles, "flushing <pending>" each
 *   child: "flushed"
 *
 * argv: <dataDir> <keytarService> <serverUrl> <fingerprint> <chunks> <runSeed>
 */
import { createInterface } from 'node:readline';
import { createKeytarKeyStore } from '../../../src-main/core/keychain';
import { createWorkstation } from '../../../src-main/core/workstation';
import { chunkBytes, RECORDING_MIME, RECORDING_PATIENT } from './recording-bytes';

const [dataDir, service, serverUrl, fingerprint, chunks, runSeed] = process.argv.slice(2) as [string, string, string, string, string, string];
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const lines = createInterface({ input: process.stdin });
const waiting: Array<(l: string) => void> = [];
lines.on('line', (l) => waiting.shift()?.(l));
const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));

async function ok<T>(p: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>, what: string): Promise<T> {
  const r = await p;
  if (!r.ok) throw new Error(`${what} failed: ${JSON.stringify(r.error)}`);
  return r.value as T;
}

const ws = await createWorkstation({ dataDir, keyStore: createKeytarKeyStore(service), server: { url: serverUrl, fingerprint }, syncIntervalMs: 3_600_000 });
await ok(ws.invoke('auth.login', { username: 'doctor', password: 'demo-doctor-2026' }), 'login');
await ok(ws.invoke('sync.now', {}), 'sync');
const visit = await ok<{ visitId: string }>(ws.invoke('visits.start', { patientId: RECORDING_PATIENT }), 'visit');
await ok(ws.invoke('visits.consent', { visitId: visit.visitId, recording: true, method: 'verbal' }), 'consent');
const rec = await ok<{ recordingId: string }>(ws.invoke('recordings.start', { visitId: visit.visitId, mimeType: RECORDING_MIME }), 'recording');
say(`recording ${rec.recordingId}`);
await next(); // "go": the parent has cut the network (or not)
for (let i = 0; i < Number(chunks); i++) {
  const data = chunkBytes(Number(runSeed), i).toString('base64');
  await ok(ws.invoke('recordings.chunk', { recordingId: rec.recordingId, seq: i, data }), `chunk ${i}`);
  say(`chunk ${i}`);
}
say('written');
await next(); // "flush": the network is back
const pending = (): number => (ws.vault.db.prepare('SELECT count(*) AS n FROM recording_chunks_pending').get() as { n: number }).n;
for (let i = 0; i < 200 && pending() > 0; i++) {
  say(`flushing ${pending()}`);
  await ws.invoke('sync.now', {});
  await new Promise((r) => setTimeout(r, 20));
}
say('flushed');
await next(); // never comes: the parent kills or ends this process
