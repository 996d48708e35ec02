/**
 * The pull path without a server (a scripted ServerClient): bulk page apply, deferred FHIR
 * validation with quarantine, integrity refusals, atomic pages, resumability and progress.
 * The real server's paging (total counted once, carried in the cursor) is test/server/sync.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { openVault, type Vault } from '../../src-main/core/vault';
import { createMemoryKeyStore } from '../../src-main/core/keychain';
import { assertValidResource } from '../../src-main/core/vault/fhir-validate';
import { readableRecords } from '../../src-main/core/api/handlers/chart-view';
import { pullChanges, type PullProgress } from '../../src-main/core/sync/pull';
import type { SyncContext } from '../../src-main/core/sync/context';
import { DEFAULT_BACKOFF } from '../../src-main/core/sync/backoff';
import { offlineError } from '../../src-main/core/sync/http-json';
import { sealJson, type Envelope } from '../../src-shared/node/envelope';
import { EhrError } from '../../src-shared/errors';
import type { PulledRecord, PullQuery, PullResponse } from '../../src-shared/sync/sync';
import { cleanupAll, note, tempDir } from './helpers/harness';

afterAll(cleanupAll);

const PATIENT = 'p-1';
const KEY = { patientId: PATIENT, keyId: 'p-1-k1', key: randomBytes(32), expiresAt: null };
const CANARY = 'Quarantine-Canary-Text';
const meta = { authorUserId: 'u-other', deviceId: 'dev-other', at: '2026-11-25T10:00:00.000Z', deleted: false };

function record(resource: { resourceType: string; id: string }, version = 1, patientId = PATIENT): PulledRecord {
  const envelope = sealJson({ recordId: resource.id, patientId, resourceType: resource.resourceType, version, keyId: KEY.keyId }, resource, KEY.key);
  return { envelope, meta } as PulledRecord;
}

/** Authentic (sealed with the patient's key, AAD intact) but not valid FHIR: valueString must be a string. */
const invalidNote = (id: string) => ({ ...note(id, PATIENT, CANARY), valueString: 42 }) as unknown as Resource & { id: string };
const patient = (id: string) => ({ resourceType: 'Patient', id, identifier: [{ value: `MRN-${id}` }], name: [{ family: 'Testperson', given: ['Pat'] }], birthDate: '1970-01-01' });

/** A scripted server: pages of `limit` from `records`, the total counted on the first page and carried in the cursor. */
function scriptedServer(records: PulledRecord[], opts: { failOnCall?: number } = {}) {
  let calls = 0;
  const pull = async (q: PullQuery): Promise<PullResponse> => {
    calls++;
    if (calls === opts.failOnCall) throw offlineError('ECONNRESET');
    const m = /^s(\d+)(?:-t(\d+))?$/.exec(q.cursor ?? '');
    const after = m ? Number(m[1]) : 0;
    const limit = Number(q.limit ?? 200);
    const page = records.slice(after, after + limit);
    const hasMore = after + limit < records.length;
    const total = m?.[2] !== undefined ? Number(m[2]) : records.length - after;
    const end = after + page.length;
    return { records: page, hasMore, total, nextCursor: hasMore ? `s${end}-t${total}` : `s${end}` };
  };
  return { pull, calls: () => calls };
}

function contextFor(vault: Vault, pull: (q: PullQuery) => Promise<PullResponse>, pullLimit = 2): SyncContext {
  return {
    vault,
    client: { pull } as unknown as SyncContext['client'],
    keys: {
      cachedKey: (p: string, k?: string) => (p === KEY.patientId && (!k || k === KEY.keyId) ? KEY : null),
      openingKey: async (p: string, k: string) => {
        if (p === KEY.patientId && k === KEY.keyId) return KEY;
        throw new EhrError('FORBIDDEN', 'No data key.', { patientId: p });
      },
    } as unknown as SyncContext['keys'],
    deviceId: 'dev-test', now: () => new Date(), backoff: DEFAULT_BACKOFF, pushBatch: 100, pullLimit, auditBatch: 100,
  };
}

const validatedFlag = (vault: Vault, id: string): number => (vault.db.prepare('SELECT validated FROM resources WHERE id = ?').get(id) as { validated: number }).validated;

describe('pull: bulk apply with FHIR validation deferred to first read', () => {
  let vault: Vault;
  beforeEach(async () => {
    vault = await openVault({ dir: tempDir('pull'), keyStore: createMemoryKeyStore() });
    return () => vault.close();
  });

  it('stores an authentic but invalid record quarantined: never listed, never returned, a PHI-free error; a valid one is shown', async () => {
    expect(() => assertValidResource(invalidNote('bad-1'))).toThrow(); // the fixture really is invalid FHIR
    const server = scriptedServer([record(note('good-1', PATIENT, 'fine')), record(invalidNote('bad-1')), record(patient(PATIENT))]);
    const report = await pullChanges(contextFor(vault, server.pull));
    expect(report).toMatchObject({ received: 3, stored: 3, skipped: 0 });
    // Stored, not yet validated (the Patient, which feeds the searchable patients table, was validated at pull).
    expect(validatedFlag(vault, 'good-1')).toBe(0);
    expect(validatedFlag(vault, 'bad-1')).toBe(0);
    expect(validatedFlag(vault, PATIENT)).toBe(1);
    expect(vault.patients.getById(PATIENT)).toMatchObject({ id: PATIENT });

    // What the UI reads (records.list goes through readableRecords): the valid record only.
    const shown = readableRecords(vault, ['physician'], PATIENT);
    expect(shown.map((r) => r.id).sort()).toEqual(['good-1', PATIENT]);
    expect(validatedFlag(vault, 'good-1')).toBe(1);
    expect(validatedFlag(vault, 'bad-1')).toBe(-1); // quarantined, persisted
    // records.get / records.save read through resources.get: a clear, PHI-free refusal.
    let err: unknown;
    try {
      vault.resources.get('bad-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EhrError);
    expect(err).toMatchObject({ code: 'INVALID', detail: { reason: 'QUARANTINED', recordId: 'bad-1', resourceType: 'Observation' } });
    expect(JSON.stringify({ message: (err as Error).message, detail: (err as EhrError).detail })).not.toContain(CANARY);
    // Kept (for review), listed by id only, and still refused on every later read.
    expect(vault.resources.quarantined()).toEqual([{ id: 'bad-1', patientId: PATIENT, resourceType: 'Observation' }]);
    expect(() => vault.resources.get('bad-1')).toThrow(/quarantined/);
    expect(vault.resources.listByPatient(PATIENT).map((r) => r.id)).not.toContain('bad-1');
    expect(vault.resources.listByStatus('synced').map((r) => r.id)).not.toContain('bad-1');
    expect(vault.resources.get('good-1')).toMatchObject({ id: 'good-1', version: 1, status: 'synced' });
  });

  it('a newer valid server version replaces a quarantined record; an older or equal one does not', async () => {
    // Each scripted server is a fresh feed (the stored cursor is cleared between them).
    const pullFresh = async (r: PulledRecord) => {
      vault.kv.set('sync.pull.cursor', '');
      return pullChanges(contextFor(vault, scriptedServer([r]).pull));
    };
    await pullFresh(record(invalidNote('bad-2'), 3));
    expect(vault.resources.listByPatient(PATIENT)).toEqual([]);
    expect((await pullFresh(record(note('bad-2', PATIENT, 'stale'), 3))).stored).toBe(0);
    expect(() => vault.resources.get('bad-2')).toThrow(/quarantined/);
    expect((await pullFresh(record(note('bad-2', PATIENT, 'fixed'), 4))).stored).toBe(1);
    expect(vault.resources.get('bad-2')).toMatchObject({ version: 4, resource: { valueString: 'fixed' } });
  });

  it('does not open what the vault already holds at that version or newer (its own pushes coming back): not decrypted, not reported; a newer version is', async () => {
    await pullChanges(contextFor(vault, scriptedServer([record(note('h-1', PATIENT, 'held')), record(note('h-2', PATIENT, 'old'))]).pull, 10));
    vault.kv.set('sync.pull.cursor', '');
    // A damaged copy of the version held: opening it would fail its integrity check and be reported.
    const damaged = record(note('h-1', PATIENT, 'held'));
    const ct = Buffer.from(damaged.envelope.ct, 'base64url');
    ct[3]! ^= 1;
    damaged.envelope = { ...damaged.envelope, ct: ct.toString('base64url') };
    const report = await pullChanges(contextFor(vault, scriptedServer([damaged, record(note('h-2', PATIENT, 'new'), 2)]).pull, 10));
    expect(report).toMatchObject({ received: 2, stored: 1, skipped: 0 });
    expect(vault.kv.getJson('sync.pull.skipped')).toBeNull();
    expect(vault.resources.get('h-1')).toMatchObject({ version: 1, resource: { valueString: 'held' } });
    expect(vault.resources.get('h-2')).toMatchObject({ version: 2, resource: { valueString: 'new' } });
  });

  it('refuses tampered envelopes and plaintext that names another record (INTEGRITY), an invalid Patient (INVALID): skipped by id, nothing stored', async () => {
    const tampered = record(note('t-1', PATIENT, 'x'));
    const ct = Buffer.from(tampered.envelope.ct, 'base64url');
    ct[5]! ^= 1;
    tampered.envelope = { ...tampered.envelope, ct: ct.toString('base64url') };
    const moved = record(note('t-2', PATIENT, 'x'));
    moved.envelope = { ...moved.envelope, version: 2 }; // AAD binds the version
    const lying = { envelope: sealJson({ recordId: 't-3', patientId: PATIENT, resourceType: 'Observation', version: 1, keyId: KEY.keyId }, note('other-id', PATIENT, 'x'), KEY.key), meta } as PulledRecord;
    const notObject = { envelope: sealJson({ recordId: 't-4', patientId: PATIENT, resourceType: 'Observation', version: 1, keyId: KEY.keyId }, ['Observation', 't-4'], KEY.key), meta } as PulledRecord;
    const badPatient = record({ ...patient('p-bad'), birthDate: 'yesterday' } as never, 1, PATIENT);
    const report = await pullChanges(contextFor(vault, scriptedServer([tampered, moved, lying, notObject, badPatient, record(note('ok', PATIENT, 'x'))]).pull, 10));
    expect(report).toMatchObject({ received: 6, stored: 1, skipped: 5 });
    expect(vault.resources.count()).toBe(1);
    expect(vault.kv.getJson('sync.pull.skipped')).toEqual([
      { recordId: 't-1', code: 'INTEGRITY' }, { recordId: 't-2', code: 'INTEGRITY' }, { recordId: 't-3', code: 'INTEGRITY' },
      { recordId: 't-4', code: 'INTEGRITY' }, { recordId: 'p-bad', code: 'INVALID' },
    ]);
  });

  it('a page applies atomically: a storage failure mid-page leaves the previous cursor and none of that page', async () => {
    const records = Array.from({ length: 6 }, (_, i) => record(note(`a-${i}`, PATIENT, `n${i}`)));
    const repo = vault.resources;
    const original = repo.putPulled;
    let call = 0;
    repo.putPulled = (rows) => {
      original(rows);
      if (++call === 2) throw new Error('disk full'); // after the rows were written: the transaction must undo them
    };
    await expect(pullChanges(contextFor(vault, scriptedServer(records).pull))).rejects.toThrow();
    expect(vault.resources.count()).toBe(2);
    expect(vault.kv.get('sync.pull.cursor')).toBe('s2-t6');
    expect(vault.kv.get('sync.pull.received')).toBe('2');
    repo.putPulled = original;
    const progress: PullProgress[] = [];
    const report = await pullChanges(contextFor(vault, scriptedServer(records).pull), (p) => progress.push(p));
    expect(report.received).toBe(4);
    expect(vault.resources.count()).toBe(6);
    expect(progress).toEqual([{ done: 4, total: 6 }, { done: 6, total: 6 }]);
  });

  it('resumes after a connection loss from the stored cursor: every record once, progress carried across', async () => {
    const records = Array.from({ length: 7 }, (_, i) => record(note(`r-${i}`, PATIENT, `n${i}`)));
    const progress: PullProgress[] = [];
    const first = scriptedServer(records, { failOnCall: 3 });
    await expect(pullChanges(contextFor(vault, first.pull), (p) => progress.push(p))).rejects.toMatchObject({ code: 'OFFLINE' });
    // The prefetched page 3 failed: pages 1-2 are stored with their cursor.
    expect(vault.resources.count()).toBe(4);
    expect(vault.kv.get('sync.pull.cursor')).toBe('s4-t7');
    const again = scriptedServer(records);
    await pullChanges(contextFor(vault, again.pull), (p) => progress.push(p));
    expect(again.calls()).toBe(2); // pages 3 and 4 only
    expect(vault.resources.count()).toBe(7);
    expect(progress).toEqual([{ done: 2, total: 7 }, { done: 4, total: 7 }, { done: 6, total: 7 }, { done: 7, total: 7 }]);
    expect(vault.kv.get('sync.pull.received')).toBe('0');
    expect(vault.kv.get('sync.pull.cursor')).toBe('s7');
  });

  it('never overwrites local work: pending rows are kept, conflicts get the (validated) server side beside ours', async () => {
    vault.resources.put({ resource: note('mine-1', PATIENT, 'local edit'), patientId: PATIENT, version: 1, status: 'pending' });
    vault.resources.put({ resource: note('mine-2', PATIENT, 'ours'), patientId: PATIENT, version: 1, status: 'conflict' });
    vault.resources.put({ resource: note('mine-3', PATIENT, 'ours'), patientId: PATIENT, version: 1, status: 'conflict' });
    const report = await pullChanges(contextFor(vault, scriptedServer([
      record(note('mine-1', PATIENT, 'server'), 2), record(note('mine-2', PATIENT, 'theirs'), 2), record(invalidNote('mine-3'), 2),
    ]).pull, 10));
    expect(report.skipped).toBe(1); // the invalid server side of a conflict is refused, ours stays
    expect(vault.resources.get('mine-1')).toMatchObject({ status: 'pending', version: 1, resource: { valueString: 'local edit' } });
    expect(vault.resources.getConflict('mine-2')).toMatchObject({ version: 2, resource: { valueString: 'theirs' } });
    expect(vault.resources.getConflict('mine-3')).toBeNull();
  });

  it('applies a deletion of a record stored earlier in the same page in order', async () => {
    const tomb = { envelope: sealJson({ recordId: 'd-1', patientId: PATIENT, resourceType: 'Observation', version: 2, keyId: KEY.keyId }, { resourceType: 'Observation', id: 'd-1', deleted: true }, KEY.key) as Envelope, meta: { ...meta, deleted: true } } as PulledRecord;
    await pullChanges(contextFor(vault, scriptedServer([record(note('d-1', PATIENT, 'x')), tomb]).pull, 10));
    expect(vault.resources.get('d-1')).toMatchObject({ status: 'deleted', version: 2 });
  });
});
