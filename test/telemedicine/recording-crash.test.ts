/**
 * kill -9 mid-recording: a real workstation core in a child process (real vault, real keychain,
 * real server through a relay the test can cut) writes 500 KiB recording chunks through the API
 * and is SIGKILLed at seeded moments (EHR_CRASH_SEED replays them): online, offline (chunks queued
 * in the vault) and in the middle of flushing the queue. A fresh core on the same data folder then
 * finds every chunk whose call had resolved, byte-identical, flushes the queue, and reports the
 * recording as still incomplete (a recording's live state does not survive a restart, by design:
 * finishing it is refused with NOT_FOUND). The canary never appears in plaintext on disk or server.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src-server/index';
import type { LogLine } from '../../src-server/http/log';
import type { RecordingChunkPage, RecordingView } from '../../src-shared/api/types';
import { createKeytarKeyStore } from '../../src-main/core/keychain';
import { createWorkstation, type Workstation } from '../../src-main/core/workstation';
import { dumpDatabaseText } from '../server/helpers';
import { crashRandom } from '../helpers/crash-seed';
import { forgetWorkstationKeys, ok, relay, startEnrolledWorkstation, tempDirs } from '../session/real-stack';
import { CHUNK_CANARY, chunkBytes, RECORDING_PATIENT } from './helpers/recording-bytes';

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'helpers', 'recording-child.ts');
const CHUNKS = 8;
type Mode = 'online' | 'offline' | 'flush';
const MODES: Mode[] = ['online', 'offline', 'flush', 'online', 'flush', 'flush'];

const dirs = tempDirs();
const service = `clinic-ehr-test-${randomUUID()}`;
const keyStore = createKeytarKeyStore(service);
const logs: LogLine[] = [];
let server: RunningServer;
let link: ReturnType<typeof relay>;
let dataDir = '';

beforeAll(async () => {
  server = await startServer({ dataDir: dirs.make('ehr-srv-'), port: 0, seed: 'demo', demoPatients: 4, log: (l) => logs.push(l) });
  link = relay(server.port);
  await link.up();
  dataDir = dirs.make('ehr-ws-');
  const ws = await startEnrolledWorkstation(server, { dataDir, keyStore, name: 'recording crash workstation' });
  await ws.close();
}, 120_000);

afterAll(async () => {
  await link?.down().catch(() => undefined);
  await server?.close();
  await forgetWorkstationKeys(keyStore);
  dirs.removeAll();
});

interface Run { recordingId: string; resolved: number; killed: boolean; flushing: number }

function runChild(mode: Mode, runSeed: number, killAtChunk: number, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, service, `https://127.0.0.1:${link.port}`, server.fingerprint, String(CHUNKS), String(runSeed)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const run: Run = { recordingId: '', resolved: -1, killed: false, flushing: 0 };
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const kill = (): void => {
      setTimeout(() => {
        run.killed = child.exitCode === null;
        child.kill('SIGKILL');
      }, delayMs);
    };
    createInterface({ input: child.stdout }).on('line', (line) => {
      void (async () => {
        if (line.startsWith('recording ')) {
          run.recordingId = line.slice('recording '.length);
          if (mode !== 'online') await link.down();
          child.stdin.write('go\n');
        } else if (line.startsWith('chunk ')) {
          run.resolved = Number(line.slice(6));
          if (mode !== 'flush' && run.resolved === killAtChunk) kill();
        } else if (line === 'written') {
          await link.up();
          child.stdin.write('flush\n');
        } else if (line.startsWith('flushing ')) {
          if (run.flushing++ === 0 && mode === 'flush') kill();
        } else if (line === 'flushed') {
          child.kill('SIGKILL');
        }
      })();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(run);
      else reject(new Error(`recording child failed (${code}): ${stderr.slice(-2000)}`));
    });
  });
}

const pendingRows = (ws: Workstation, recordingId: string): number =>
  (ws.vault.db.prepare('SELECT count(*) AS n FROM recording_chunks_pending WHERE recording_id = ?').get(recordingId) as { n: number }).n;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

it(`every resolved chunk survives ${MODES.length} SIGKILLs mid-recording, sealed and intact`, async () => {
  const random = crashRandom('recording crash');
  const summary: string[] = [];
  for (const [n, mode] of MODES.entries()) {
    const runSeed = Math.floor(random.next() * 2 ** 31);
    const killAtChunk = Math.floor(random.next() * (CHUNKS - 1));
    const delayMs = Math.floor(random.next() * (mode === 'flush' ? 500 : 15));
    await link.up().catch(() => undefined);
    const run = await runChild(mode, runSeed, killAtChunk, delayMs);
    expect(run.recordingId).not.toBe('');
    expect(run.resolved).toBeGreaterThanOrEqual(mode === 'flush' ? CHUNKS - 1 : killAtChunk);

    // A fresh core on the same folder and keychain entry, straight to the server.
    const ws = await createWorkstation({ dataDir, keyStore, server: { url: server.url, fingerprint: server.fingerprint }, syncIntervalMs: 3_600_000 });
    try {
      const queued = pendingRows(ws, run.recordingId);
      await ok(ws.invoke('auth.login', { username: 'doctor', password: 'demo-doctor-2026' }));
      for (let i = 0; i < 100 && pendingRows(ws, run.recordingId) > 0; i++) {
        await ws.invoke('sync.now', {});
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(pendingRows(ws, run.recordingId)).toBe(0);
      const page = await ok<RecordingChunkPage>(ws.invoke('recordings.read', { recordingId: run.recordingId, from: 0, limit: 16 }));
      const seqs = page.chunks.map((c) => c.seq);
      // Every chunk whose call resolved is there, in order, no gap; at most the one in flight beyond.
      expect(seqs.length).toBeGreaterThanOrEqual(run.resolved + 1);
      expect(seqs.length).toBeLessThanOrEqual(Math.min(CHUNKS, run.resolved + 2));
      expect(seqs).toEqual([...seqs.keys()]);
      for (const c of page.chunks) expect(Buffer.from(c.data, 'base64').equals(chunkBytes(runSeed, c.seq))).toBe(true);
      // The live recording died with the process: it is listed as still recording, and finishing
      // it from a new process is refused clearly (resuming a recording is not supported).
      const listed = await ok<RecordingView[]>(ws.invoke('recordings.list', { patientId: RECORDING_PATIENT }));
      expect(listed.find((r) => r.recordingId === run.recordingId)?.status).toBe('recording');
      const fin = await ws.invoke('recordings.finish', { recordingId: run.recordingId });
      expect(fin.ok).toBe(false);
      expect(JSON.stringify(fin)).toContain('NOT_FOUND');
      summary.push(`${n}:${mode} resolved=${run.resolved} killed=${run.killed} queued=${queued} stored=${seqs.length}`);
    } finally {
      await ws.close();
    }
  }
  console.log(`[recording crash] seed ${random.seed}: ${summary.join('; ')}`);

  // Never in plaintext: not in the vault's files, the server's storage or its log.
  for (const f of filesUnder(dataDir)) {
    const bytes = readFileSync(f);
    expect(bytes.includes(CHUNK_CANARY), f).toBe(false);
    expect(bytes.includes('Video visit recording'), f).toBe(false);
  }
  const storage = await dumpDatabaseText(server);
  expect(storage).not.toContain(CHUNK_CANARY);
  expect(storage).not.toContain('Video visit recording');
  expect(JSON.stringify(logs)).not.toContain(CHUNK_CANARY);
}, 90_000);
