/**
 * records.createBatch: several vital signs as ONE write. All records, their outbox rows and their
 * audit entries are written in one vault transaction or not at all, and a retry with the same
 * requestId answers the first result without writing anything twice. Refusals (locked, another
 * clinician's patient, a scope the role lacks) write nothing and carry no PHI.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LIMITS, type ApiResult, type ChartResource } from '../../src-shared/api';
import { CANARY, PASSWORD, containsCanary, createHarness, vitals, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());
afterEach(() => vi.restoreAllMocks());

async function as(username: string): Promise<void> {
  await h.ok('auth.switchUser', {});
  await h.login(username);
}

/** What a batch could have left behind, counted across the whole vault. */
function footprint() {
  const { vault } = h.ws;
  const requests = vault.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM api_requests').get()!.n;
  return { resources: vault.resources.count(), outbox: vault.outbox.count(), audit: h.mark(), requests };
}

const batch = (patientId: string, values: number[], requestId: string = randomUUID()) => ({
  patientId,
  requestId,
  resources: values.map((v) => vitals(patientId, v)),
});

/** An Observation the vault's FHIR validation refuses, with canary PHI where an error could quote it. */
const invalidObservation = (patientId: string): ChartResource =>
  ({ ...vitals(patientId), valueQuantity: { value: CANARY.note }, note: [{ text: CANARY.note }] }) as unknown as ChartResource;

const expectError = (r: ApiResult<unknown>, code: string) => {
  expect(r.ok ? 'ok' : r.error.code).toBe(code);
  expect(containsCanary(r)).toBeNull();
};

describe('one atomic write', () => {
  it('stores every record with its outbox row and create entry, in order, under one correlation id', async () => {
    await as('nina');
    const before = footprint();
    const r = await h.ok('records.createBatch', batch('p-canary', [61, 62, 63]));
    expect(r.replayed).toBe(false);
    expect(r.results).toHaveLength(3);
    const stored = r.results.map((x) => h.ws.vault.resources.get(x.id));
    expect(stored.map((s) => [s?.status, s?.patientId, (s?.resource as { valueQuantity?: { value?: number } }).valueQuantity?.value])).toEqual([
      ['pending', 'p-canary', 61],
      ['pending', 'p-canary', 62],
      ['pending', 'p-canary', 63],
    ]);
    const queued = h.ws.vault.outbox.list(1000).filter((m) => r.results.some((x) => x.mutationId === m.mutationId));
    expect(queued.map((m) => [m.recordId, m.op])).toEqual(r.results.map((x) => [x.id, 'create']));
    const entries = h.since(before.audit);
    expect(entries.map((e) => [e.type, e.patientId, e.resourceRefs])).toEqual(r.results.map((x) => ['create', 'p-canary', [`Observation/${x.id}`]]));
    expect(new Set(entries.map((e) => e.correlationId)).size).toBe(1);
    expect(entries.every((e) => e.afterHash && e.beforeHash === null)).toBe(true);
    expect(footprint()).toMatchObject({ resources: before.resources + 3, outbox: before.outbox + 3, requests: before.requests + 1 });
  });

  it('one invalid observation in the middle: nothing is written, the error names its position and no PHI', async () => {
    await as('nina');
    const before = footprint();
    const input = { ...batch('p-canary', [70]), resources: [vitals('p-canary', 70), invalidObservation('p-canary'), vitals('p-canary', 72)] };
    const r = await h.call('records.createBatch', input);
    expectError(r, 'INVALID');
    expect(r.ok ? null : r.error.detail?.index).toBe(1);
    expect(footprint()).toEqual(before);
    // Nothing is kept under the request id either: the corrected submission goes through with it.
    const fixed = await h.ok('records.createBatch', { ...input, resources: [vitals('p-canary', 70), vitals('p-canary', 71), vitals('p-canary', 72)] });
    expect(fixed).toMatchObject({ requestId: input.requestId, replayed: false });
    expect(footprint()).toMatchObject({ resources: before.resources + 3, outbox: before.outbox + 3 });
  });

  /** Makes the nth call of a vault repository method throw, with PHI in the error's own text. */
  function failNthCall(repo: object, method: string, nth: number): () => number {
    const target = repo as Record<string, (...a: unknown[]) => unknown>;
    const original = target[method]!;
    let calls = 0;
    vi.spyOn(target, method).mockImplementation((...args: unknown[]) => {
      if (++calls === nth) throw new Error(`disk hiccup while writing ${CANARY.note}`);
      return original(...args);
    });
    return () => calls;
  }

  it.each([
    ['the third outbox row', () => failNthCall(h.ws.vault.outbox, 'enqueue', 3), 3],
    ['the request row, after every record', () => failNthCall(h.ws.vault.requests, 'insert', 1), 1],
  ] as const)('an injected failure at %s rolls the whole batch back; the retry writes it once', async (_where, inject, expectedCalls) => {
    await as('nina');
    const before = footprint();
    const input = batch('p-own', [80, 81, 82, 83]);
    const calls = inject();
    // The caller gets a fixed message, not the failure's own text.
    expectError(await h.call('records.createBatch', input), 'INTERNAL');
    expect(calls()).toBe(expectedCalls);
    expect(footprint()).toEqual(before);

    vi.restoreAllMocks();
    const first = await h.ok('records.createBatch', input);
    expect(first.replayed).toBe(false);
    expect(footprint()).toMatchObject({ resources: before.resources + 4, outbox: before.outbox + 4, requests: before.requests + 1 });
  });
});

describe('idempotent on retry', () => {
  it('the same call again answers the first result and writes nothing: no record, outbox row or audit entry twice', async () => {
    await as('nina');
    const input = batch('p-own', [90, 91]);
    const first = await h.ok('records.createBatch', input);
    const after = footprint();
    const again = await h.ok('records.createBatch', input);
    expect(again).toEqual({ ...first, replayed: true });
    expect(footprint()).toEqual(after);
    const copies = h.ws.vault.resources.listByPatient('p-own').filter((r) => first.results.some((x) => x.id === r.id));
    expect(copies).toHaveLength(2);
  });

  it('a retry after a lock and unlock is still the same request', async () => {
    await as('nina');
    const input = batch('p-own', [95]);
    const first = await h.ok('records.createBatch', input);
    h.ws.lockNow('screen-lock');
    await h.ok('auth.unlock', { password: PASSWORD });
    const after = footprint();
    expect(await h.ok('records.createBatch', input)).toEqual({ ...first, replayed: true });
    expect(footprint()).toEqual(after);
  });

  it('a used request id with other records, another chart or another user is refused (CONFLICT), nothing written', async () => {
    await as('nina');
    const input = batch('p-own', [100, 101]);
    await h.ok('records.createBatch', input);
    const after = footprint();
    expectError(await h.call('records.createBatch', { ...input, resources: [vitals('p-own', 100)] }), 'CONFLICT');
    expectError(await h.call('records.createBatch', { ...batch('p-canary', [100, 101]), requestId: input.requestId }), 'CONFLICT');
    await as('phil');
    const r = await h.call('records.createBatch', input);
    expectError(r, 'CONFLICT');
    // The refusal says nothing about the first request (its records are nurse Nina's).
    expect(r.ok ? null : r.error.detail).toBeUndefined();
    expect(footprint()).toMatchObject({ resources: after.resources, outbox: after.outbox, requests: after.requests });
  });
});

describe('refusals write nothing and carry no PHI', () => {
  it('locked session -> LOCKED', async () => {
    await as('nina');
    h.ws.lockNow('screen-lock');
    const before = footprint();
    expectError(await h.call('records.createBatch', batch('p-canary', [60])), 'LOCKED');
    expect(footprint()).toMatchObject({ resources: before.resources, outbox: before.outbox, requests: before.requests });
    await h.ok('auth.unlock', { password: PASSWORD });
  });

  it("another clinician's patient -> FORBIDDEN, audited with that patient's id", async () => {
    await as('nina');
    const before = footprint();
    expectError(await h.call('records.createBatch', batch('p-other', [60])), 'FORBIDDEN');
    expect(h.since(before.audit).map((e) => [e.type, e.patientId])).toEqual([['access-denied', 'p-other']]);
    expect(footprint()).toMatchObject({ resources: before.resources, outbox: before.outbox, requests: before.requests });
  });

  it('a role without a create scope (billing) -> FORBIDDEN', async () => {
    await as('bill');
    const before = footprint();
    expectError(await h.call('records.createBatch', batch('p-canary', [60])), 'FORBIDDEN');
    expect(footprint()).toMatchObject({ resources: before.resources, outbox: before.outbox, requests: before.requests });
  });

  it("one record outside the nurse's scope (a lab result) refuses the whole batch before anything is written", async () => {
    await as('nina');
    const lab = { ...vitals('p-canary'), category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], note: [{ text: CANARY.note }] } as ChartResource;
    const before = footprint();
    const r = await h.call('records.createBatch', { ...batch('p-canary', [60]), resources: [vitals('p-canary', 60), lab] });
    expectError(r, 'FORBIDDEN');
    expect(r.ok ? null : r.error.detail?.index).toBe(1);
    expect(h.since(before.audit).map((e) => [e.type, e.patientId])).toEqual([['access-denied', 'p-canary']]);
    expect(footprint()).toMatchObject({ resources: before.resources, outbox: before.outbox, requests: before.requests });
  });

  it('a record naming another patient refuses the batch (INVALID); no PHI', async () => {
    await as('nina');
    const before = footprint();
    expectError(await h.call('records.createBatch', { ...batch('p-canary', [60]), resources: [vitals('p-canary', 60), vitals('p-own', 61)] }), 'INVALID');
    expect(footprint()).toEqual(before);
  });

  it('an empty batch, a batch over the limit and a request id that is not a UUID are refused by the schema', async () => {
    await as('nina');
    const before = footprint();
    expectError(await h.call('records.createBatch', { ...batch('p-own', []) }), 'INVALID');
    const many = Array.from({ length: LIMITS.batchRecords + 1 }, (_, i) => 60 + (i % 100));
    expectError(await h.call('records.createBatch', batch('p-own', many)), 'TOO_LARGE');
    expectError(await h.call('records.createBatch', { ...batch('p-own', [60]), requestId: CANARY.mrn }), 'INVALID');
    expect(footprint()).toEqual(before);
  });
});
