/**
 * Large charts stay whole (issue 14): a 1,100-record Synthea-shaped patient whose financial records
 * are the newest local writes. The chart shows the Patient, every problem, medication and allergy
 * and the latest vitals; the timeline pages by clinical date until every record was seen exactly
 * once; financial records are not chart data but are counted as not shown; and every record
 * returned is in the read's audit entries, none of them over the server's per-entry limit.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChartCursor, RecordView } from '../../src-shared/api';
import { LIMITS } from '../../src-shared/sync/common';
import { createHarness, type Harness } from './harness';
import { resolvedResources, syntheaBundle } from '../helpers/synthea';

let h: Harness;
const PID = 'p-own';
const bundle = syntheaBundle(1107, { entries: 1100, patientId: PID });
const resources = resolvedResources(bundle);
const ofType = (t: string) => resources.filter((r) => r.resourceType === t);
const FINANCIAL = new Set(['Claim', 'ExplanationOfBenefit']);
const DIRECTORY = new Set(['Organization', 'Location', 'Practitioner', 'PractitionerRole']);

beforeAll(async () => {
  h = await createHarness();
  const { vault } = h.ws;
  // Clinical records first, financial ones last: by local update time the Claims are the newest.
  const ordered = [...resources.filter((r) => !FINANCIAL.has(r.resourceType)), ...resources.filter((r) => FINANCIAL.has(r.resourceType))];
  vault.transaction(() => {
    for (const r of ordered) {
      if (DIRECTORY.has(r.resourceType)) continue;
      vault.resources.put({ resource: r as unknown as Resource, patientId: PID, version: 1, status: 'synced' });
    }
  });
  await h.login('phil');
});
afterAll(async () => h?.close());

const idsOf = (rs: readonly { id: string }[]) => new Set(rs.map((r) => r.id));

describe('a 1,100-record chart', () => {
  it('shows the Patient, every problem, medication and allergy, and the latest vitals; no financial record', async () => {
    expect(resources.length).toBeGreaterThan(1000);
    const chart = await h.ok('patients.open', { patientId: PID });
    const got = idsOf(chart.records);
    expect(got.has(PID)).toBe(true);
    for (const t of ['Condition', 'MedicationRequest', 'AllergyIntolerance']) {
      expect(ofType(t).length).toBeGreaterThan(0);
      expect(ofType(t).filter((r) => !got.has(r.id)).map((r) => r.id), t).toEqual([]);
    }
    expect(chart.records.filter((r) => FINANCIAL.has(r.resourceType))).toEqual([]);
    // The newest reading of every vital sign is there.
    const vitals = ofType('Observation') as unknown as { id: string; effectiveDateTime: string; code: { coding: { code: string }[] } }[];
    const newest = new Map<string, { id: string; effectiveDateTime: string }>();
    for (const v of vitals) {
      const code = v.code.coding[0]!.code;
      if (!newest.has(code) || newest.get(code)!.effectiveDateTime < v.effectiveDateTime) newest.set(code, v);
    }
    for (const v of newest.values()) expect(got.has(v.id)).toBe(true);
    expect(chart.paging?.notShown).toEqual([
      { resourceType: 'Claim', count: ofType('Claim').length },
      { resourceType: 'ExplanationOfBenefit', count: ofType('ExplanationOfBenefit').length },
    ]);
  });

  it('pages the timeline by clinical date until every record was seen exactly once', async () => {
    const chart = await h.ok('patients.open', { patientId: PID });
    const timelineTypes = new Set(['Encounter', 'Observation', 'Procedure', 'Immunization', 'DocumentReference']);
    // The harness seeds one vital sign and one note for this patient too.
    const expected = [...resources.filter((r) => timelineTypes.has(r.resourceType)), { id: `obs-${PID}` }, { id: `note-${PID}` }];
    expect(chart.paging?.timelineTotal).toBe(expected.length);
    const seen: RecordView[] = chart.records.filter((r) => timelineTypes.has(r.resourceType));
    expect(seen.length).toBeLessThan(expected.length);
    let cursor: ChartCursor | null = chart.paging?.olderCursor ?? null;
    let lastDate = cursor?.date ?? '';
    let pages = 0;
    while (cursor) {
      const page = await h.ok('records.older', { patientId: PID, before: cursor });
      expect(page.records.length).toBeLessThanOrEqual(200);
      for (const r of page.records) {
        const d = (r.resource as { effectiveDateTime?: string; period?: { start?: string }; occurrenceDateTime?: string; performedPeriod?: { start?: string } });
        const date = d.effectiveDateTime ?? d.period?.start ?? d.occurrenceDateTime ?? d.performedPeriod?.start ?? '';
        expect(date <= lastDate).toBe(true);
      }
      lastDate = page.olderCursor?.date ?? lastDate;
      seen.push(...page.records);
      cursor = page.olderCursor;
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    const unique = idsOf(seen);
    expect(unique.size).toBe(expected.length);
    expect(expected.filter((r) => !unique.has(r.id))).toEqual([]);
  });

  it('audits every record returned, in entries the server accepts', async () => {
    const mark = h.mark();
    const chart = await h.ok('patients.open', { patientId: PID });
    const entries = h.since(mark).filter((e) => e.type === 'read');
    expect(entries.length).toBeGreaterThan(1);
    expect(new Set(entries.map((e) => e.correlationId)).size).toBe(1);
    for (const e of entries) expect((e.resourceRefs ?? []).length).toBeLessThanOrEqual(LIMITS.auditRefsPerEntry);
    const audited = new Set(entries.flatMap((e) => e.resourceRefs ?? []));
    for (const r of chart.records) expect(audited.has(`${r.resourceType}/${r.id}`)).toBe(true);

    const mark2 = h.mark();
    const page = await h.ok('records.older', { patientId: PID, before: chart.paging!.olderCursor! });
    const pageAudit = new Set(h.since(mark2).flatMap((e) => e.resourceRefs ?? []));
    for (const r of page.records) expect(pageAudit.has(`${r.resourceType}/${r.id}`)).toBe(true);
  });
});
