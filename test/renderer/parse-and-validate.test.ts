/** The search box's parsing and the vitals form's plausibility checks. */
import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../src-renderer/search/parse-query';
import { VITAL_SIGNS, checkVital, vitalObservation } from '../../src-renderer/chart/vital-signs';
import { channelSchemas } from '../../src-shared/api/channels';
import { rolesAllow } from '../../src-shared/access';

const vital = (key: string) => VITAL_SIGNS.find((v) => v.key === key)!;

describe('parseSearchQuery', () => {
  it.each([
    ['Canarywhistle', { name: 'Canarywhistle' }],
    ['  zeb ', { name: 'zeb' }],
    ['van der Berg', { name: 'van der Berg' }],
    ['CANARY-MRN-0042', { mrn: 'CANARY-MRN-0042' }],
    ['1931-02-27', { birthDate: '1931-02-27' }],
    ['27/02/1931', { birthDate: '1931-02-27' }],
    ['7.2.1931', { birthDate: '1931-02-07' }],
  ])('%s', (raw, expected) => {
    const input = parseSearchQuery(raw);
    expect(input).toEqual({ ...expected, limit: 25 });
    // What we send is what main accepts.
    expect(channelSchemas['patients.search'].safeParse(input).success).toBe(true);
  });

  it.each(['', 'a', '1931-02-30', '31/13/1931'])('asks nothing for %j', (raw) => {
    expect(parseSearchQuery(raw)).toBeNull();
  });
});

describe('checkVital', () => {
  it('accepts plausible values, with a decimal comma too', () => {
    expect(checkVital(vital('hr'), '72')).toEqual({ ok: true, value: 72 });
    expect(checkVital(vital('temp'), '37,4')).toEqual({ ok: true, value: 37.4 });
  });
  it('treats an empty field as not measured', () => {
    expect(checkVital(vital('hr'), '  ')).toBeNull();
  });
  it.each([['hr', '720'], ['spo2', '101'], ['temp', '3.7'], ['sys', 'abc'], ['hr', '72.5']])('refuses %s = %s', (key, raw) => {
    const r = checkVital(vital(key), raw);
    expect(r?.ok).toBe(false);
  });
});

describe('vitalObservation', () => {
  it('builds an Observation that the nurse scope allows and records.save accepts', () => {
    const obs = vitalObservation(vital('hr'), 72, 'p1', '2026-11-25T10:00:00Z');
    expect(obs.valueQuantity).toMatchObject({ value: 72, code: '/min' });
    expect(rolesAllow(['nurse'], { resourceType: 'Observation', interaction: 'c', resource: obs })).toBe(true);
    expect(rolesAllow(['billing'], { resourceType: 'Observation', interaction: 'c', resource: obs })).toBe(false);
    expect(channelSchemas['records.save'].safeParse({ patientId: 'p1', resource: obs }).success).toBe(true);
  });
});
