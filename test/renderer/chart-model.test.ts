/** The chart display model built from the contract's Chart. */
import { describe, expect, it } from 'vitest';
import { chartModel } from '../../src-renderer/chart/chart-model';
import { progressNote } from '../../src-renderer/actions/record-actions';
import { vitalObservation, VITAL_SIGNS } from '../../src-renderer/chart/vital-signs';
import type { Chart, RecordView } from '../../src-shared/api/types';

const view = (id: string, resource: RecordView['resource'], status: RecordView['status'] = 'synced'): RecordView => ({
  id, patientId: 'p1', resourceType: resource.resourceType as RecordView['resourceType'], version: 1, status, updatedAt: 0, resource,
});
const hr = VITAL_SIGNS[0]!;

const chart: Chart = {
  patient: {
    resourceType: 'Patient', id: 'p1', birthDate: '1931-02-27', gender: 'male',
    name: [{ family: 'Canarywhistle', given: ['Zebediah'] }],
    identifier: [{ system: 'urn:other', value: 'X1' }, { type: { coding: [{ code: 'MR' }] }, value: 'CANARY-MRN-0042' }],
  },
  access: 'care-team',
  records: [
    view('o2', vitalObservation(hr, 80, 'p1', '2026-11-25T10:00:00Z')),
    view('o1', vitalObservation(hr, 70, 'p1', '2026-11-24T10:00:00Z')),
    view('o3', vitalObservation(hr, 999, 'p1', '2026-11-26T10:00:00Z'), 'deleted'),
    view('a1', { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p1' }, code: { coding: [{ code: '91936005', display: 'Penicillin' }] } }),
    view('c1', { resourceType: 'Condition', subject: { reference: 'Patient/p1' }, code: { text: 'Hypertension' } }),
    view('n1', progressNote('p1', 'u1', 'Zebediah is well — résumé ✓', '2026-11-25T11:00:00Z')),
  ],
};

describe('chartModel', () => {
  const m = chartModel(chart);
  it('reads the banner: name, DOB, the MR identifier', () => {
    expect(m).toMatchObject({ name: 'CANARYWHISTLE, Zebediah', birthDate: '1931-02-27', mrn: 'CANARY-MRN-0042' });
  });
  it('lists allergies and problems by their display text', () => {
    expect(m.allergies.map((a) => a.text)).toEqual(['Penicillin']);
    expect(m.problems.map((p) => p.text)).toEqual(['Hypertension']);
  });
  it('orders vitals oldest first and skips deleted records', () => {
    expect(m.vitals).toHaveLength(1);
    expect(m.vitals[0]!.points.map((p) => p.value)).toEqual([70, 80]);
  });
  it('decodes a UTF-8 note through base64 both ways', () => {
    expect(m.notes[0]).toMatchObject({ signed: true, text: 'Zebediah is well — résumé ✓' });
  });
});

describe('chartModel on a paged chart', () => {
  it('says how much of the timeline is loaded, what is older, and what is not shown; lists procedures and immunizations', () => {
    const paged: Chart = {
      ...chart,
      records: [
        ...chart.records,
        view('pr1', { resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/p1' }, code: { text: 'Depression screening' }, performedPeriod: { start: '2026-11-20T10:00:00Z' } }),
        view('im1', { resourceType: 'Immunization', status: 'completed', patient: { reference: 'Patient/p1' }, vaccineCode: { text: 'Influenza' }, occurrenceDateTime: '2026-10-01T10:00:00Z' }),
      ],
      paging: { timelineTotal: 640, olderCursor: { date: '2026-11-20T10:00:00Z', id: 'pr1' }, notShown: [{ resourceType: 'Claim', count: 104 }] },
    };
    const m = chartModel(paged);
    // o1, o2, n1, pr1, im1 (the deleted o3 is not shown, so not counted)
    expect(m.timeline).toEqual({ shown: 5, total: 640, hasOlder: true, notShown: [{ resourceType: 'Claim', count: 104 }] });
    expect(m.procedures.map((p) => [p.text, p.date])).toEqual([['Depression screening', '2026-11-20T10:00:00Z']]);
    expect(m.immunizations.map((p) => p.text)).toEqual(['Influenza']);
    expect(chartModel({ ...paged, paging: { ...paged.paging!, olderCursor: null } }).timeline.hasOlder).toBe(false);
  });
});
