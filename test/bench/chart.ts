/**
 * Chart-open benchmark on the real core: a workstation from createWorkstation (SQLCipher vault in a
 * temp dir, in-memory key store, real session, guard, handlers and hash-chained audit; the test
 * harness's fake auth server), a patient with 5,000 vital-sign Observations stored the way a sync
 * pull stores them (sealed in envelopes under a patient data key, opened, and applied by the pull's
 * own applyServerPage: plaintext kept, FHIR validation deferred to the first read), and a signed-in
 * nurse on that patient's care team. Timed: `core.invoke('patients.open')`, the one channel the
 * renderer's openChart calls — guard, vault read, Medplum validation, audit entries, the Chart value.
 *
 *   chart_open_core_p95_ms  patients.open right after a pull brought a new version of every
 *                           observation (the chart's records are validated by this read)
 *
 * Warm opens (the same chart again, nothing left to validate) are in details. Every open is
 * checked: ok, the expected records and paging, and its audit entries naming every record returned.
 * The renderer's share of a chart open is the ui suite's chart_open_p95_ms (over a synthetic core).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { Chart } from '../../src-shared/api';
import { LIMITS } from '../../src-shared/api';
import { sealJson } from '../../src-shared/node/envelope';
import type { DataKey } from '../../src-main/core/vault';
import { applyServerPage, openRecordText, type OpenedRecord } from '../../src-main/core/sync/records';
import { LATEST_VITALS } from '../../src-main/core/api/handlers/chart-view';
import { createHarness, type Harness } from '../access/harness';
import { vitalRecords } from '../e2e/synthetic-core';
import { median, percentile, type BenchResult } from './bench-kit';

const OBSERVATIONS = 5_000;
const OPENS = 20;
/** On the harness nurse's (nina) care team. */
const PID = 'p-own';

const patient: Patient & { id: string } = {
  resourceType: 'Patient', id: PID,
  identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'MRN-BENCH-0001' }],
  name: [{ use: 'official', family: 'Benchmark', given: ['Vera'] }],
  birthDate: '1958-03-09', gender: 'female',
};
const observations = vitalRecords(PID, OBSERVATIONS).map((r) => r.resource as Resource & { id: string });

/** One pull of `resources` at `version`: sealed as the server holds them, opened and applied as pullChanges does. */
function pull(h: Harness, key: DataKey, resources: readonly (Resource & { id: string })[], version: number): number {
  const opened: OpenedRecord[] = resources.map((r) => {
    const envelope = sealJson({ recordId: r.id, patientId: PID, resourceType: r.resourceType, version, keyId: key.keyId }, r, key.key);
    const { value, json } = openRecordText(envelope, key);
    return { envelope, meta: { authorUserId: 'u-phys', deviceId: 'dev-elsewhere', at: new Date().toISOString(), deleted: false }, value, json };
  });
  const refused: string[] = [];
  const { stored } = h.ws.vault.transaction(() => applyServerPage(h.ws.vault, opened, (id) => refused.push(id)));
  if (refused.length || stored !== resources.length) throw new Error(`bench chart: pull stored ${stored} of ${resources.length} (${refused.length} refused)`);
  return stored;
}

/** What one open must have returned and audited; throws otherwise (a bench that times an error is worthless). */
function check(h: Harness, chart: Chart, auditFrom: number): number {
  const obs = chart.records.filter((r) => r.resourceType === 'Observation');
  const expectObs = Math.max(LATEST_VITALS, LIMITS.chartPage);
  const newest = observations.at(-1)!.id;
  const problems = [
    chart.patient.id !== PID && 'wrong patient',
    chart.access !== 'care-team' && `access ${chart.access}`,
    obs.length !== expectObs && `${obs.length} observations (expected ${expectObs})`,
    !chart.records.some((r) => r.resourceType === 'Patient' && r.id === PID) && 'no Patient record',
    chart.records.length !== expectObs + 1 && `${chart.records.length} records (expected ${expectObs + 1})`,
    !obs.some((r) => r.id === newest) && 'newest observation missing',
    chart.paging?.timelineTotal !== OBSERVATIONS && `timelineTotal ${chart.paging?.timelineTotal}`,
    !chart.paging?.olderCursor && 'no olderCursor',
  ].filter(Boolean);
  const entries = h.since(auditFrom).filter((e) => e.type === 'read' && e.patientId === PID);
  const audited = new Set(entries.flatMap((e) => e.resourceRefs ?? []));
  if (entries.length === 0) problems.push('no read audit entry');
  if (new Set(entries.map((e) => e.correlationId)).size !== 1) problems.push('audit entries of more than one call');
  const unaudited = chart.records.filter((r) => !audited.has(`${r.resourceType}/${r.id}`)).length;
  if (unaudited) problems.push(`${unaudited} records not audited`);
  if (problems.length) throw new Error(`bench chart: patients.open returned ${problems.join('; ')}`);
  return entries.length;
}

export default async function run(): Promise<BenchResult> {
  // The shell's vault page cache (the harness default is a small one for tests).
  const h = await createHarness({ seed: false, cacheSizeMb: null });
  try {
    const key: DataKey = { patientId: PID, keyId: 'dk-bench-1', key: randomBytes(32), expiresAt: null };
    pull(h, key, [patient], 1);
    let version = 1;
    let t0 = performance.now();
    pull(h, key, observations, version);
    const pullMs = performance.now() - t0;
    await h.login('nina');

    const open = async (): Promise<{ ms: number; auditEntries: number }> => {
      const mark = h.mark();
      t0 = performance.now();
      const res = await h.call('patients.open', { patientId: PID });
      const ms = performance.now() - t0;
      if (!res.ok) throw new Error(`bench chart: patients.open failed: ${res.error.code}`);
      return { ms, auditEntries: check(h, res.value, mark) };
    };

    await open(); // first open: statement preparation and the validator's first use, not a figure
    const afterPull: number[] = [];
    const warm: number[] = [];
    let auditEntries = 0;
    for (let i = 0; i < OPENS; i++) {
      if (i > 0) pull(h, key, observations, ++version); // a new version of every observation, unvalidated again
      const cold = await open();
      afterPull.push(cold.ms);
      warm.push((await open()).ms);
      auditEntries = cold.auditEntries;
    }
    const quarantined = h.ws.vault.resources.quarantined().length;
    if (quarantined) throw new Error(`bench chart: ${quarantined} records quarantined`);

    return {
      figures: { chart_open_core_p95_ms: percentile(afterPull, 95) },
      targets: { chart_open_core_p95_ms: '<= 150' },
      details: {
        observations: OBSERVATIONS,
        opens: OPENS,
        records_per_open: Math.max(LATEST_VITALS, LIMITS.chartPage) + 1,
        audit_entries_per_open: auditEntries,
        chart_open_core_median_ms: median(afterPull),
        chart_open_core_max_ms: Math.max(...afterPull),
        chart_open_core_warm_p95_ms: percentile(warm, 95),
        chart_open_core_warm_median_ms: median(warm),
        initial_pull_store_ms: Math.round(pullMs),
      },
      notes: [
        'Timed: core.invoke("patients.open") in-process (no IPC, no renderer); the ui suite times the renderer over a synthetic core.',
        'Each timed open follows a pull of a new version of all 5,000 observations, so the records it returns are FHIR-validated by that read; warm opens (already validated) in details.',
        'Vault: SQLCipher, the shell\'s page cache, synchronous FULL; auth server and clock are the test harness\'s fakes (login is not timed).',
      ],
    };
  } finally {
    await h.close();
  }
}
