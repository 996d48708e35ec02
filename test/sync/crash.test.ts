/**
 * Crash test: the client core runs in a child process (tsx) and is SIGKILLed at random points of
 * an outbox drain (seeded: EHR_CRASH_SEED replays them, test/helpers/crash-seed.ts), at least 50
 * runs really cut short by the kill, while new edits keep arriving between runs. After a final
 * clean run the server must hold every mutation exactly once, each record at the version its
 * edit count implies, and the whole audit chain.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openVault } from '../../src-main/core/vault';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { DOCTOR, cleanupAll, note, saveLocally, startTestServer, tempDir } from './helpers/harness';
import { createFileKeyStore } from './helpers/file-key-store';
import { crashRandom } from '../helpers/crash-seed';

afterAll(cleanupAll);

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'helpers', 'crash-child.ts');
const KILLS = 50;
const RECORDS = 12;
const PATIENTS = ['demo-p-0002', 'demo-p-0003'];

interface ChildRun {
  killed: boolean;
  done: { state: string; pending: number; held: number; audit: { pending: number; rejected: unknown }; errorCode: string | null } | null;
}

function runChild(args: string[], killAfterMs: number | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let done: ChildRun['done'] = null;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready' && killAfterMs !== null) {
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      } else if (line.startsWith('done ')) {
        done = JSON.parse(line.slice(5)) as ChildRun['done'];
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      // Killed means the kill ended the drain: the process died of it before it said "done". A
      // signal sent after the drain finished (or to a process already gone) is no crash run.
      if (signal === 'SIGKILL') resolve({ killed: done === null, done });
      else if (code === 0) resolve({ killed: false, done });
      else reject(new Error(`crash child failed (${code}): ${stderr.slice(-2000)}`));
    });
  });
}

it(`server holds every mutation exactly once after ${KILLS} SIGKILLs mid-drain`, async () => {
  const server = await startTestServer({ demoPatients: 4 });
  const dir = tempDir('crash-ws');
  const keyFile = join(tempDir('crash-keys'), 'keys.json');
  const keyStore = createFileKeyStore(keyFile);

  // Enroll once, as IT would.
  let vault = await openVault({ dir, keyStore });
  const enrollClient = createServerClient({ serverUrl: server.url, fingerprint: server.fingerprint, deviceId: vault.device.deviceId });
  await enrollClient.enroll({ code: await server.issueEnrollmentCode(), publicKey: vault.device.publicKeyRaw });
  enrollClient.close();

  const mutationIds: string[] = [];
  const edits = new Map<string, number>();
  let counter = 0;
  const addEdits = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const r = counter++ % RECORDS;
      const id = `crash-r-${r}`;
      const patientId = PATIENTS[r % PATIENTS.length]!;
      mutationIds.push(saveLocally(vault, note(id, patientId, `edit ${counter} ${'x'.repeat(700)}`), patientId));
      edits.set(id, (edits.get(id) ?? 0) + 1);
    }
  };
  addEdits(40);
  vault.close();

  const args = [dir, keyFile, server.url, server.fingerprint, DOCTOR.username, DOCTOR.password, '3'];
  const random = crashRandom('sync drain');
  let kills = 0;
  let partial = 0;
  let before = 0;
  let lastKilled = false;
  for (let run = 0; kills < KILLS && run < KILLS * 2; run++) {
    vault = await openVault({ dir, keyStore });
    // A killed run that had sent part of its queue: the kill landed mid-drain.
    if (lastKilled && vault.outbox.count() > 0 && vault.outbox.count() < before) partial++;
    if (vault.outbox.count() < 12) addEdits(24);
    before = vault.outbox.count();
    vault.close();
    // Random points of the drain: from "just started" to a few batches in.
    const result = await runChild(args, Math.floor(random.next() * 160));
    lastKilled = result.killed;
    if (result.killed) kills++;
  }
  console.log(`[sync drain] seed ${random.seed}: ${kills} runs killed mid-drain, ${partial} with part of the queue sent`);
  expect(kills).toBeGreaterThanOrEqual(KILLS);
  // The kills really landed mid-drain: many runs died with part of the queue sent.
  expect(partial).toBeGreaterThanOrEqual(10);

  const final = await runChild(args, null);
  expect(final.done).toMatchObject({ state: 'idle', pending: 0, held: 0, errorCode: null });
  expect(final.done!.audit).toEqual({ pending: 0, rejected: null, quarantined: 0 });

  // Exactly once: every mutation id once, applied (never a conflict with itself).
  const rows = await server.db.query<{ mutation_id: string; status: string }>(
    'SELECT mutation_id, status FROM mutations WHERE mutation_id = ANY($1::text[])', [mutationIds]);
  expect(rows).toHaveLength(mutationIds.length);
  expect(new Set(rows.map((r) => r.mutation_id)).size).toBe(mutationIds.length);
  expect(rows.every((r) => r.status === 'applied')).toBe(true);
  // Each record's server version = the number of edits made to it, so none was lost or doubled.
  const records = await server.db.query<{ record_id: string; version: number }>(
    "SELECT record_id, version FROM records WHERE record_id LIKE 'crash-r-%'");
  expect(Object.fromEntries(records.map((r) => [r.record_id, r.version]))).toEqual(Object.fromEntries(edits));
  // The device's audit chain arrived whole, and the pull (also cut by the kills) completed:
  // the vault holds exactly the records this user may see.
  vault = await openVault({ dir, keyStore });
  const localAudit = vault.audit.count();
  const localRecords = vault.resources.count();
  vault.close();
  const [visible] = await server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM records r WHERE r.patient_id IN (
       SELECT ctp.patient_id FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = 'u-physician')`);
  expect(localRecords).toBe(visible!.n);
  const [audit] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM device_audit');
  expect(audit!.n).toBe(localAudit);
}, 240_000);
