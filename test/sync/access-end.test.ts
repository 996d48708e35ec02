/**
 * When access to a patient ends on this workstation, the cached chart goes with the keys; when it
 * begins, the whole chart arrives (not only changes after the cursor); and the automatic cycles
 * carry care-team changes without anyone pressing "sync now".
 *
 *  - care-team change: the canary patient's patients row, search tokens, resources and keys are
 *    gone (nothing of it in any vault table); the clinician's unsent note and draft stay, held;
 *  - break-glass: doctor2 (Ward B) breaks the glass on the restricted demo-p-0001 and receives its
 *    seeded chart; when the grant expires the chart is purged, unsent work kept;
 *  - automatic cycle: a care-team change reaches the engine (onScope) and the vault with no syncNow,
 *    and restoring it brings the chart and the held work back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import { patientInputFromFhir, type Vault } from '../../src-main/core/vault';
import type { ScopeChange } from '../../src-main/core/sync';
import {
  ADMIN, CANARY_FAMILY, CANARY_GIVEN, CANARY_MRN, DOCTOR, DOCTOR2, cleanupAll, makeWorkstation, note, saveLocally, startTestServer,
  type TestServer, type Workstation,
} from './helpers/harness';

let server: TestServer;
let admin: Workstation;
beforeAll(async () => {
  server = await startTestServer({ demoPatients: 8 });
  admin = await makeWorkstation(server, ADMIN);
}, 60_000);
afterAll(cleanupAll);

type Team = { id: string; name: string; userIds: string[]; patientIds: string[] };
async function wardA(): Promise<Team> {
  const teams = (await admin.client.call({ method: 'GET', path: '/v1/admin/care-teams', auth: true })) as { teams: Team[] };
  return teams.teams.find((t) => t.id === 'team-ward-a')!;
}
async function setWardA(team: Team, patientIds: string[]): Promise<void> {
  await admin.client.call({ method: 'PUT', path: `/v1/admin/care-teams/${team.id}`, auth: true, body: { name: team.name, userIds: team.userIds, patientIds } });
}

/** Every row of every vault table, as text (audit_log included: it must carry ids only). */
function dumpVault(vault: Vault): Record<string, string> {
  const tables = ['patients', 'patient_name_tokens', 'resources', 'drafts', 'outbox', 'audit_log', 'data_keys', 'kv', 'verifiers'];
  return Object.fromEntries(tables.map((t) => [t, JSON.stringify(vault.db.prepare(`SELECT * FROM ${t}`).all())]));
}
function rowsOf(vault: Vault, table: 'patients' | 'resources' | 'data_keys' | 'patient_name_tokens', patientId: string): number {
  const column = table === 'patients' ? 'id' : 'patient_id';
  return (vault.db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(patientId)?.n) ?? 0;
}

async function until(what: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('access ends: the cached chart goes, unsent work stays', () => {
  it('after a care-team change nothing of the canary patient remains in the vault but the held note and the draft', async () => {
    const ws = await makeWorkstation(server, DOCTOR);
    await ws.engine.syncNow();
    // A canary patient registered on this workstation joins the doctor's care team (Ward A) on the server.
    const patientId = 'canary-p-purge';
    ws.engine.keys.createForNewPatient(patientId);
    const patient: Patient & { id: string } = {
      resourceType: 'Patient', id: patientId, name: [{ family: CANARY_FAMILY, given: [CANARY_GIVEN] }],
      identifier: [{ value: CANARY_MRN }], birthDate: '1970-01-01',
    };
    saveLocally(ws.vault, patient, patientId);
    ws.vault.patients.upsert(patientInputFromFhir(patient)); // as the session core does for a registration
    saveLocally(ws.vault, note('canary-visit', patientId, `${CANARY_GIVEN} first visit`), patientId);
    expect((await ws.engine.syncNow()).pendingMutations).toBe(0);
    expect(ws.vault.resources.get(patientId)?.status).toBe('synced');
    expect(ws.vault.patients.search({ name: 'zeb canary' }).map((p) => p.id)).toEqual([patientId]);

    // Unsent work about the patient (no canary text in it): a note waiting in the outbox, and a draft.
    const team = await wardA();
    expect(team.patientIds).toContain(patientId);
    await setWardA(team, team.patientIds.filter((p) => p !== patientId));
    const unsent = saveLocally(ws.vault, note('unsent-note', patientId, 'BP recheck at 16:00'), patientId);
    ws.vault.drafts.save({ id: 'draft-1', userId: 'u-physician', patientId, resourceType: 'Observation', content: { text: 'half-typed plan' } });

    const s = await ws.engine.syncNow();
    // Gone from search and chart.
    expect(ws.vault.patients.search({ name: 'zeb canary' })).toEqual([]);
    expect(ws.vault.patients.search({ mrn: CANARY_MRN })).toEqual([]);
    expect(ws.vault.patients.getById(patientId)).toBeNull();
    expect(ws.vault.resources.listByPatient(patientId)).toEqual([]);
    expect(ws.vault.resources.get(patientId)).toBeNull();
    for (const table of ['patients', 'resources', 'data_keys', 'patient_name_tokens'] as const) expect(rowsOf(ws.vault, table, patientId)).toBe(0);
    // Nothing of the canary anywhere in the vault.
    const dump = dumpVault(ws.vault);
    for (const [table, text] of Object.entries(dump)) {
      for (const canary of [CANARY_FAMILY, CANARY_GIVEN, CANARY_MRN]) expect(`${table}: ${text.includes(canary)}`).toBe(`${table}: false`);
    }
    // The unsent work stayed: the note is held in the outbox (counted in status), the draft is there.
    const row = ws.vault.outbox.get(unsent);
    expect(row?.lastError).toMatch(/^held:/);
    expect(s.heldMutations).toBe(1);
    expect(s.pendingMutations).toBe(1);
    expect(ws.vault.drafts.get('draft-1', 'u-physician')?.content).toEqual({ text: 'half-typed plan' });
    // Audit entries were not touched (append-only, ids only), and still verify.
    expect(ws.vault.audit.verify().ok).toBe(true);
    // Other patients are untouched.
    expect(ws.vault.resources.listByPatient('demo-p-0003').length).toBeGreaterThan(0);
    await setWardA(team, team.patientIds);
  }, 60_000);
});

describe('break-glass', () => {
  it('doctor2 breaks the glass on restricted demo-p-0001 and receives its seeded chart; at expiry the chart is purged, unsent work kept', async () => {
    let clock: Date | null = null;
    const ws = await makeWorkstation(server, DOCTOR2, { now: () => clock ?? new Date() });
    await ws.engine.syncNow();
    const target = 'demo-p-0001';
    expect(ws.vault.resources.listByPatient(target)).toEqual([]);
    // The seeded chart is older than everything doctor2 has already pulled (it was seeded first).
    const seeded = await server.db.query<{ record_id: string }>('SELECT record_id FROM records WHERE patient_id = $1', [target]);
    expect(seeded.length).toBeGreaterThanOrEqual(5);

    const { grant } = await ws.client.breakGlass({ patientId: target, reason: 'ETREAT', justification: 'Unconscious on arrival, chart needed now', password: DOCTOR2.password, minutes: 30 });
    const s = await ws.engine.syncNow();
    expect(s.state).toBe('idle');
    const chart = ws.vault.resources.listByPatient(target, { limit: 1000 }).map((r) => r.id).sort();
    expect(chart).toEqual(seeded.map((r) => r.record_id).sort());
    const stored = ws.vault.patients.getById(target);
    expect(stored).not.toBeNull();
    expect(ws.vault.patients.search({ name: stored!.familyName }).map((p) => p.id)).toContain(target);
    expect(s.dataAsOf[target]).toBeTruthy();

    // Unsent work during the grant; the grant ends before it is pushed (the workstation offline).
    const unsent = saveLocally(ws.vault, note('bg-note', target, 'Given 1 g paracetamol'), target, 'u-physician2');
    clock = new Date(Date.parse(grant.expiresAt) + 1000);
    await server.close();
    const offline = await ws.engine.syncNow();
    expect(offline.state).toBe('offline');
    expect(ws.vault.patients.getById(target)).toBeNull();
    expect(ws.vault.patients.search({ name: stored!.familyName }).map((p) => p.id)).not.toContain(target);
    expect(ws.vault.resources.listByPatient(target)).toEqual([]);
    for (const table of ['patients', 'resources', 'data_keys', 'patient_name_tokens'] as const) expect(rowsOf(ws.vault, table, target)).toBe(0);
    const dump = dumpVault(ws.vault);
    for (const text of [dump.patients!, dump.resources!, dump.patient_name_tokens!]) {
      expect(text).not.toContain(stored!.familyName);
      expect(text).not.toContain(target);
    }
    expect(ws.vault.outbox.get(unsent)?.lastError).toBe('held:access-ended');
    expect(offline.heldMutations).toBe(1);
    expect(ws.vault.resources.listByPatient('demo-p-0007').length).toBeGreaterThan(0); // Ward B stays
    server = await server.restart();
  }, 60_000);
});

describe('automatic cycles carry care-team changes', () => {
  it('a care-team change reaches the workstation without syncNow; restoring it brings the chart and the held work back', async () => {
    const ws = await makeWorkstation(server, DOCTOR, { intervalMs: 300 });
    const changes: ScopeChange[] = [];
    ws.engine.onScope((c) => changes.push(c));
    ws.engine.start();
    await until(() => changes.length >= 1);
    const patientId = 'demo-p-0004';
    expect(changes[0]!.careTeamPatientIds).toContain(patientId);
    await until(() => ws.vault.resources.listByPatient(patientId).length > 0);
    const before = ws.vault.resources.listByPatient(patientId, { limit: 1000 }).length;

    const team = await wardA();
    await setWardA(team, team.patientIds.filter((p) => p !== patientId));
    await until(() => changes.some((c) => c.dropped.includes(patientId)));
    const dropped = changes.find((c) => c.dropped.includes(patientId))!;
    expect(dropped.careTeamPatientIds).not.toContain(patientId);
    expect(dropped.userId).toBe('u-physician');
    expect(ws.vault.resources.listByPatient(patientId)).toEqual([]);
    expect(rowsOf(ws.vault, 'data_keys', patientId)).toBe(0);
    expect(rowsOf(ws.vault, 'patients', patientId)).toBe(0);
    const unsent = saveLocally(ws.vault, note('held-then-sent', patientId, 'Wound dressing changed'), patientId);
    ws.engine.notifyLocalChange();
    await until(() => ws.vault.outbox.get(unsent)?.lastError?.startsWith('held:') === true);

    // Back on the team: the whole chart comes again (it is older than the cursor) — and our note with it.
    await setWardA(team, team.patientIds);
    await until(() => changes.some((c) => c.added.includes(patientId)));
    await until(() => ws.vault.resources.listByPatient(patientId, { limit: 1000 }).length >= before);
    expect(ws.vault.patients.getById(patientId)).not.toBeNull();
    await until(() => ws.vault.outbox.get(unsent) === null);
    await until(() => ws.vault.resources.get('held-then-sent')?.status === 'synced');
    await ws.engine.stop();
  }, 60_000);
});
