/**
 * The renderer store's PHI guarantees: lock and logout leave no patient data in any slice, a
 * late answer from before a lock cannot put PHI back, and nothing ever reaches web storage.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEhrStore, type EhrStore } from '../../src-renderer/state/store';
import { emptyPhi } from '../../src-renderer/state/patient-slice';
import type { Chart, PatientSummary } from '../../src-shared/api/types';

const CANARY_NAME = 'Zebediah Canarywhistle';
const CANARY_MRN = 'CANARY-MRN-0042';
const canaryRow: PatientSummary = {
  id: 'pat-canary', mrn: CANARY_MRN, family: 'Canarywhistle', given: ['Zebediah'], birthDate: '1931-02-28', gender: 'male', access: 'care-team',
};
const canaryChart: Chart = {
  patient: { resourceType: 'Patient', id: 'pat-canary', name: [{ family: 'Canarywhistle', given: ['Zebediah'] }] },
  access: 'care-team',
  records: [],
};

/** A Storage that records every write, installed as localStorage/sessionStorage for the test. */
class RecordingStorage {
  readonly writes: string[] = [];
  private readonly map = new Map<string, string>();
  get length(): number { return this.map.size; }
  key(i: number): string | null { return [...this.map.keys()][i] ?? null; }
  getItem(k: string): string | null { return this.map.get(k) ?? null; }
  setItem(k: string, v: string): void { this.writes.push(`${k}=${v}`); this.map.set(k, v); }
  removeItem(k: string): void { this.map.delete(k); }
  clear(): void { this.map.clear(); }
}

function fillWithCanaryPhi(store: EhrStore): void {
  const s = store.getState();
  s.signedIn({ userId: 'u-nurse', username: 'nurse', displayName: 'Nurse Test', roles: ['nurse'] });
  const epoch = store.getState().phiEpoch;
  expect(
    s.putPhi(epoch, {
      myPatients: [canaryRow],
      query: 'Canary',
      results: [canaryRow],
      chart: canaryChart,
      noteText: `Seen today: ${CANARY_NAME}`,
      amendText: `Amended: ${CANARY_NAME}`,
      recent: [canaryRow],
      conflicts: [{
        summary: {
          conflictId: 'c1', patientId: 'pat-canary', recordId: 'r1', resourceType: 'Observation', localVersion: 2, serverVersion: 3,
          mine: { resource: canaryChart.patient, version: 2, authorUserId: 'u-nurse', deviceId: 'dev-1', at: '2026-01-01T10:00:00.000Z' },
          theirs: { resource: canaryChart.patient, version: 3, authorUserId: 'u-phys', deviceId: 'dev-2', at: '2026-01-01T10:05:00.000Z' },
        },
        local: canaryChart.patient, server: canaryChart.patient,
      }],
    }),
  ).toBe(true);
  s.navigate('chart', canaryRow.id);
}

/** Every PHI field back to empty, and no canary anywhere in the serialised state. */
function expectNoPhi(store: EhrStore): void {
  const s = store.getState();
  const phiNow = Object.fromEntries(Object.keys(emptyPhi()).map((k) => [k, s[k as keyof typeof s]]));
  expect(phiNow).toEqual(emptyPhi());
  const dump = JSON.stringify(s);
  expect(dump).not.toContain(CANARY_NAME);
  expect(dump).not.toContain(CANARY_MRN);
  expect(dump).not.toContain('Canary');
}

describe('renderer store', () => {
  let local: RecordingStorage;
  let session: RecordingStorage;
  beforeEach(() => {
    local = new RecordingStorage();
    session = new RecordingStorage();
    Object.assign(globalThis, { localStorage: local, sessionStorage: session });
  });
  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'localStorage');
    Reflect.deleteProperty(globalThis, 'sessionStorage');
  });

  it('holds PHI while open (so the clearing below is not vacuous)', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    expect(JSON.stringify(store.getState())).toContain(CANARY_NAME);
  });

  it('drops every PHI field on lock, keeps the user and the opaque route', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    store.getState().locked('idle');
    expectNoPhi(store);
    const s = store.getState();
    expect(s.lock).toBe('locked');
    expect(s.user?.userId).toBe('u-nurse');
    expect(s.screen).toBe('chart');
    expect(s.patientId).toBe('pat-canary');
  });

  it('drops every PHI field and the user on logout', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    store.getState().grantStarted({ grantId: 'g1', patientId: 'pat-canary', reason: 'ETREAT', startedAt: Date.now(), expiresAt: Date.now() + 60_000 });
    store.getState().signedOut();
    expectNoPhi(store);
    expect(store.getState().user).toBeNull();
    expect(store.getState().grants).toEqual([]);
    expect(store.getState().patientId).toBeNull();
  });

  it('refuses a PHI answer that started before the lock, and any PHI while locked', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    const epochBeforeLock = store.getState().phiEpoch;
    store.getState().locked('idle');
    expect(store.getState().putPhi(epochBeforeLock, { results: [canaryRow] })).toBe(false);
    expect(store.getState().putPhi(store.getState().phiEpoch, { results: [canaryRow] })).toBe(false);
    expectNoPhi(store);
    store.getState().unlocked();
    expect(store.getState().putPhi(epochBeforeLock, { results: [canaryRow] })).toBe(false);
    expect(store.getState().putPhi(store.getState().phiEpoch, { results: [canaryRow] })).toBe(true);
  });

  it('does not let a warning reopen a locked session', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    store.getState().locked('user');
    store.getState().lockWarning(Date.now() + 30_000);
    expect(store.getState().lock).toBe('locked');
  });

  it('writes nothing to localStorage or sessionStorage through a whole session', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    const s = store.getState();
    s.syncStatus({ state: 'idle', pendingMutations: 3, conflicts: 0, lastSyncAt: 1 });
    s.lockWarning(Date.now() + 60_000);
    s.warningCleared();
    s.openBreakGlass('pat-canary');
    s.locked('idle');
    s.unlocked();
    s.signedOut();
    expect(local.writes).toEqual([]);
    expect(session.writes).toEqual([]);
  });
});

describe('applyStatus (main\'s view of the session)', () => {
  const base = { lockAt: null, warningAt: null, offline: false, breakGlass: [], sessions: [], lockTimeoutMinutes: 10, lockWarningSeconds: 30, videoVisits: true, visitRecording: true };
  const nurse = { userId: 'u-nurse', username: 'nurse', displayName: 'Nurse Test', roles: ['nurse' as const] };
  const doctor = { userId: 'u-doc', username: 'doc', displayName: 'Dr Test', roles: ['physician' as const] };

  it('a different user in front drops the previous user\'s PHI', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    store.getState().applyStatus({ ...base, state: 'active', user: doctor });
    expectNoPhi(store);
    expect(store.getState().user?.userId).toBe('u-doc');
    expect(store.getState().patientId).toBeNull();
    expect(store.getState().lockTimeoutMinutes).toBe(10);
  });

  it('a locked status drops PHI; "none" signs out', () => {
    const store = createEhrStore();
    fillWithCanaryPhi(store);
    store.getState().applyStatus({ ...base, state: 'locked', user: nurse });
    expect(store.getState().lock).toBe('locked');
    expectNoPhi(store);
    store.getState().applyStatus({ ...base, state: 'none', user: null });
    expect(store.getState().user).toBeNull();
  });
});
