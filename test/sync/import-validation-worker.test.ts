/**
 * The import's validation worker (src-main/core/vault/fhir-validate-worker.ts) only vouches: a
 * resource it found valid is not validated twice on the main thread, and anything it did not vouch
 * for is validated there as before — so an invalid entry is reported exactly as without it, and a
 * transaction with one is still all or nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertValidResource, vouchValidated } from '../../src-main/core/vault/fhir-validate';
import { startValidationWorker } from '../../src-main/core/vault/fhir-validate-worker';
import { importAndSync } from '../../src-main/core/sync/import-files';
import { DOCTOR, cleanupAll, makeWorkstation, startTestServer, tempDir } from './helpers/harness';
import { syntheaBundle } from '../helpers/synthea';

afterAll(cleanupAll);

const badObservation = (b: ReturnType<typeof syntheaBundle>) => {
  const i = b.entry.findIndex((e) => e.resource.resourceType === 'Observation');
  (b.entry[i]!.resource as Record<string, unknown>).valueQuantity = { value: 'not a number' };
  return i;
};

describe('validation worker', () => {
  it('answers per entry: valid resources true; an invalid one, a missing resource and non-JSON false or nothing', async () => {
    const worker = startValidationWorker();
    try {
      const b = syntheaBundle(7, { entries: 40, type: 'batch' });
      const bad = badObservation(b);
      (b.entry as unknown[]).push({ fullUrl: 'urn:uuid:nothing' });
      const verdicts = await worker.validateBundleText(JSON.stringify(b));
      expect(verdicts).toHaveLength(b.entry.length);
      expect(verdicts.map((v, i) => (v ? -1 : i)).filter((i) => i >= 0)).toEqual([bad, b.entry.length - 1]);
      expect(await worker.validateBundleText('{ not json')).toEqual([]);
    } finally {
      await worker.close();
    }
  });

  it('a vouch is for one object and one check: the next check of it validates again', () => {
    const invalid = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 'not a number' } } as never;
    expect(() => assertValidResource(invalid)).toThrow();
    vouchValidated(invalid);
    expect(() => assertValidResource(invalid)).not.toThrow();
    expect(() => assertValidResource(invalid)).toThrow();
    expect(() => assertValidResource({ ...(invalid as object) } as never)).toThrow();
  });

  it('importAndSync (worker on) reports an invalid batch entry and refuses a transaction with one, like the main-thread path', async () => {
    const server = await startTestServer({ demoPatients: 2 });
    const ws = await makeWorkstation(server, DOCTOR);
    const dir = tempDir('import-worker');
    mkdirSync(join(dir, 'fhir'));
    const batch = syntheaBundle(301, { entries: 120, type: 'batch' });
    const tx = syntheaBundle(302, { entries: 120, type: 'transaction' });
    const good = syntheaBundle(303, { entries: 150, type: 'transaction' });
    const badInBatch = badObservation(batch);
    const badInTx = badObservation(tx);
    [batch, tx, good].forEach((b, i) => writeFileSync(join(dir, 'fhir', `p-${i}.json`), JSON.stringify(b)));

    const { run, status } = await importAndSync([dir], { vault: ws.vault, keys: ws.engine.keys, userId: 'u-physician', role: 'physician' }, ws.engine);
    const [rb, rt, rg] = run.bundles;
    expect(rb!.invalid.map((p) => p.index)).toEqual([badInBatch]);
    expect(rb!.rolledBack).toBe(false);
    expect(rt!.invalid.map((p) => p.index)).toEqual([badInTx]);
    expect(rt).toMatchObject({ rolledBack: true, imported: 0 });
    expect(ws.vault.patients.getById(tx.entry[0]!.resource.id)).toBeNull();
    expect(rg).toMatchObject({ rolledBack: false, invalid: [] });
    expect(ws.vault.patients.getById(good.entry[0]!.resource.id)).not.toBeNull();
    expect(status).toMatchObject({ pendingMutations: 0, heldMutations: 0 });
  });
});
