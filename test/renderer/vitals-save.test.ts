/**
 * The vitals form's save, from the renderer's action down to the real main core (the access
 * harness's workstation behind a bridge): every reading in one call, so a failure part-way leaves
 * nothing, and pressing Save again with the same readings is the same request, so a save whose
 * answer was lost is not written twice.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEhrClient } from '../../src-renderer/client/ehr-client';
import { createEhrStore } from '../../src-renderer/state/store';
import { saveVitals, vitalsSubmission, type VitalReading } from '../../src-renderer/actions/record-actions';
import { VITAL_SIGNS } from '../../src-renderer/chart/vital-signs';
import type { AppContext } from '../../src-renderer/actions/context';
import type { EhrBridge } from '../../src-shared/api/bridge';
import { createHarness, type Harness } from '../access/harness';

const sign = (key: string) => VITAL_SIGNS.find((v) => v.key === key)!;
const readings: VitalReading[] = [
  { vital: sign('hr'), value: 131 },
  { vital: sign('temp'), value: 38.9 },
  { vital: sign('spo2'), value: 94 },
];

let h: Harness;
let ctx: AppContext;
/** Channels the renderer called, in order. */
const calls: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  await h.login('nina');
  const bridge: EhrBridge = {
    invoke: (async (channel: string, input: unknown) => {
      calls.push(channel);
      return h.ws.invoke(channel, input);
    }) as EhrBridge['invoke'],
    on: (() => () => undefined) as unknown as EhrBridge['on'],
  };
  const store = createEhrStore();
  store.getState().signedIn({ userId: 'u-nurse', username: 'nina', displayName: 'Nina Nurse', roles: ['nurse'] });
  store.getState().navigate('vitals', 'p-own');
  ctx = { client: createEhrClient(bridge), store };
});
afterAll(async () => h?.close());
afterEach(() => vi.restoreAllMocks());

/** The heart-rate etc. observations of p-own carrying this submission's time. */
const savedAt = (effective: string) =>
  h.ws.vault.resources.listByPatient('p-own').filter((r) => (r.resource as { effectiveDateTime?: string }).effectiveDateTime === effective);

describe('saveVitals', () => {
  it('sends every reading in one records.createBatch call', async () => {
    calls.length = 0;
    const submission = vitalsSubmission(null, 'p-own', readings, new Date('2026-03-01T08:00:00Z'));
    expect(await saveVitals(ctx, submission)).toBe(3);
    expect(calls).toEqual(['records.createBatch', 'patients.open']);
    expect(savedAt(submission.effective)).toHaveLength(3);
  });

  it('a failure part-way writes nothing; Save again writes every reading once', async () => {
    const submission = vitalsSubmission(null, 'p-own', readings, new Date('2026-03-01T09:00:00Z'));
    const enqueue = h.ws.vault.outbox.enqueue;
    let n = 0;
    vi.spyOn(h.ws.vault.outbox, 'enqueue').mockImplementation((row) => {
      if (++n === 2) throw new Error('disk hiccup');
      return enqueue(row);
    });
    await expect(saveVitals(ctx, submission)).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(savedAt(submission.effective)).toHaveLength(0);
    vi.restoreAllMocks();

    const retry = vitalsSubmission(submission, 'p-own', readings.map((r) => ({ ...r })), new Date('2026-03-01T09:01:00Z'));
    expect(retry).toBe(submission);
    await saveVitals(ctx, retry);
    expect(savedAt(submission.effective)).toHaveLength(3);
  });

  it('a save whose chart reload failed (the answer never reached the nurse) is not written twice by Save again', async () => {
    const submission = vitalsSubmission(null, 'p-own', readings, new Date('2026-03-01T10:00:00Z'));
    const open = h.ws.invoke;
    vi.spyOn(h.ws, 'invoke').mockImplementationOnce(open).mockImplementationOnce(async () => ({ ok: false, error: { code: 'LOCKED', message: 'The session is locked.' } }));
    await expect(saveVitals(ctx, submission)).rejects.toMatchObject({ code: 'LOCKED' });
    vi.restoreAllMocks();
    expect(savedAt(submission.effective)).toHaveLength(3);

    await saveVitals(ctx, vitalsSubmission(submission, 'p-own', readings, new Date()));
    expect(savedAt(submission.effective)).toHaveLength(3);
  });
});

describe('vitalsSubmission', () => {
  it('is the same request only for the same patient and the same readings', () => {
    const first = vitalsSubmission(null, 'p-own', readings, new Date('2026-03-01T11:00:00Z'));
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(vitalsSubmission(first, 'p-own', [...readings], new Date())).toBe(first);
    const changed = vitalsSubmission(first, 'p-own', [{ vital: sign('hr'), value: 130 }, ...readings.slice(1)], new Date('2026-03-01T11:05:00Z'));
    expect(changed.requestId).not.toBe(first.requestId);
    expect(changed.effective).toBe('2026-03-01T11:05:00.000Z');
    expect(vitalsSubmission(first, 'p-canary', readings, new Date()).requestId).not.toBe(first.requestId);
    expect(vitalsSubmission(first, 'p-own', readings.slice(0, 2), new Date()).requestId).not.toBe(first.requestId);
  });
});
