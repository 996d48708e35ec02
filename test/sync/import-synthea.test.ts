/**
 * Importing Synthea-shaped bundles (issue 14), in process against the real server: transaction is
 * all or nothing, batch is per entry, folders of many bundles, directory resources stored, the
 * same MRN under new ids lands in the existing chart (or is refused), and re-importing identical
 * data changes nothing and pushes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../src-main/core/sync/fhir-import';
import { importFiles } from '../../src-main/core/sync/import-files';
import { DOCTOR, cleanupAll, makeWorkstation, startTestServer, tempDir, type Workstation } from './helpers/harness';
import { syntheaBundle, type FhirBundle } from '../helpers/synthea';

afterAll(cleanupAll);

const opts = (ws: Workstation, extra: Partial<Parameters<typeof importBundle>[1]> = {}) => ({ vault: ws.vault, keys: ws.engine.keys, userId: 'u-physician', role: 'physician', ...extra });
const serverRows = async (server: Awaited<ReturnType<typeof startTestServer>>, patientId: string) =>
  server.db.query<{ record_id: string; version: number; resource_type: string }>('SELECT record_id, version, resource_type FROM records WHERE patient_id = $1', [patientId]);
const clinical = (b: FhirBundle) => b.entry.filter((e) => !['Organization', 'Location', 'Practitioner', 'PractitionerRole'].includes(e.resource.resourceType)).length;

describe('Synthea-shaped import', () => {
  it('a transaction with one bad entry imports nothing; the same bundle as a batch imports the rest and reports the one', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    const bad = (type: 'transaction' | 'batch') => {
      const b = syntheaBundle(41, { entries: 120, type });
      const obs = b.entry.findIndex((e) => e.resource.resourceType === 'Observation');
      (b.entry[obs]!.resource as Record<string, unknown>).valueQuantity = { value: 'not a number' };
      return { b, obs, patientId: b.entry[0]!.resource.id };
    };
    const tx = bad('transaction');
    const before = { resources: ws.vault.resources.count(), outbox: ws.vault.outbox.count(), audit: ws.vault.audit.count() };
    const txReport = importBundle(tx.b, opts(ws));
    expect(txReport).toMatchObject({ bundleType: 'transaction', rolledBack: true, imported: 0, directory: 0, queued: 0 });
    expect(txReport.invalid.map((i) => i.index)).toEqual([tx.obs]);
    expect({ resources: ws.vault.resources.count(), outbox: ws.vault.outbox.count(), audit: ws.vault.audit.count() }).toEqual(before);
    expect(ws.vault.patients.getById(tx.patientId)).toBeNull();

    const batch = bad('batch');
    const report = importBundle(batch.b, opts(ws));
    expect(report).toMatchObject({ bundleType: 'batch', rolledBack: false, directory: 4 });
    expect(report.invalid.map((i) => i.index)).toEqual([batch.obs]);
    expect(report.imported).toBe(clinical(batch.b) - 1);
    const status = await ws.engine.syncNow();
    expect(status).toMatchObject({ pendingMutations: 0, heldMutations: 0, errorCode: null });
    expect(await serverRows(server, batch.patientId)).toHaveLength(clinical(batch.b) - 1);
    // Directory resources are kept locally, so the chart can name who and where; they are not pushed (no patient).
    const practitioner = batch.b.entry.find((e) => e.resource.resourceType === 'Practitioner')!.resource;
    expect(ws.vault.resources.get(practitioner.id)?.resource).toMatchObject({ resourceType: 'Practitioner', name: practitioner.name });
    const enc = ws.vault.resources.listByPatient(batch.patientId, { resourceType: 'Encounter', limit: 1 })[0]!.resource as { participant: { individual: { reference: string } }[] };
    expect(enc.participant[0]!.individual.reference).toBe(`Practitioner/${practitioner.id}`);
  });

  it('a folder of bundles imports every patient; re-importing it is a no-op that pushes nothing', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    const dir = tempDir('synthea-folder');
    mkdirSync(join(dir, 'fhir'));
    const bundles = [101, 102, 103].map((seed, i) => syntheaBundle(seed, { entries: 100 + i * 50, type: i === 1 ? 'batch' : 'transaction' }));
    bundles.forEach((b, i) => writeFileSync(join(dir, 'fhir', `Patient_${i}.json`), JSON.stringify(b)));
    writeFileSync(join(dir, 'fhir', 'notes.txt'), 'not a bundle, not .json: ignored');
    const first = importFiles([dir], opts(ws));
    expect(first.files).toBe(3);
    expect(first.bundleTypes).toEqual({ transaction: 2, batch: 1 });
    expect(first.totals).toMatchObject({ patients: 3, invalid: 0, rolledBack: 0, unchanged: 0, imported: bundles.reduce((n, b) => n + clinical(b), 0) });
    await ws.engine.syncNow();
    const versions = async () => (await Promise.all(bundles.map((b) => serverRows(server, b.entry[0]!.resource.id)))).flat().map((r) => `${r.record_id}@${r.version}`).sort();
    const pushed = await versions();
    expect(pushed).toHaveLength(first.totals.imported);
    const audit = ws.vault.audit.count();

    const again = importFiles([dir], opts(ws));
    expect(again.totals).toMatchObject({ imported: 0, queued: 0, directory: 0, unchanged: first.totals.imported + first.totals.directory });
    expect(ws.vault.outbox.count()).toBe(0);
    expect(ws.vault.audit.count()).toBe(audit);
    await ws.engine.syncNow();
    expect(await versions()).toEqual(pushed);
  });

  it('the same MRN under new ids goes into the existing chart (merge) or is refused, with a report; never a hidden second chart', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    const original = syntheaBundle(201, { entries: 100, mrn: 'MRN-DUP-1' });
    const existingId = original.entry[0]!.resource.id;
    importBundle(original, opts(ws));
    // The same person exported again by another system: new ids everywhere, same MRN.
    const again = syntheaBundle(202, { entries: 100, mrn: 'MRN-DUP-1' });
    const newId = again.entry[0]!.resource.id;
    expect(newId).not.toBe(existingId);

    const refused = importBundle(structuredClone(again), opts(ws, { onDuplicateMrn: 'refuse' }));
    expect(refused.identity).toEqual([{ index: 0, bundleId: newId, existingId, action: 'refused' }]);
    expect(refused.imported).toBe(0);
    expect(refused.skipped.every((s) => s.reason === 'duplicate-mrn')).toBe(true);
    expect(ws.vault.resources.listByPatient(newId)).toHaveLength(0);

    const merged = importBundle(again, opts(ws));
    expect(merged.identity).toEqual([{ index: 0, bundleId: newId, existingId, action: 'merged' }]);
    expect(merged.patients).toEqual([existingId]);
    expect(ws.vault.patients.getByMrn('MRN-DUP-1')?.id).toBe(existingId);
    expect(ws.vault.resources.listByPatient(newId)).toHaveLength(0);
    expect(ws.vault.patients.ids().filter((id) => id === newId)).toEqual([]);
    const conditions = ws.vault.resources.listByPatient(existingId, { resourceType: 'Encounter', limit: 1000 });
    expect(conditions.length).toBe(original.entry.concat(again.entry).filter((e) => e.resource.resourceType === 'Encounter').length);
    const status = await ws.engine.syncNow();
    expect(status).toMatchObject({ pendingMutations: 0, heldMutations: 0 });
    expect((await serverRows(server, newId)).length).toBe(0);
  });
});
