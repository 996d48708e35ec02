import { describe, expect, it } from 'vitest';
import {
  ROLES,
  ROLE_DEFINITIONS,
  hasCapability,
  isAccessible,
  parseScope,
  patientAccess,
  rolesAllow,
  scopesAllow,
} from '../../src-shared/access';

const vitals = { resourceType: 'Observation', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }] };
const lab = { resourceType: 'Observation', category: [{ coding: [{ code: 'laboratory' }] }] };

describe('SMART v2 scope parsing', () => {
  it('parses context, type, interactions and filters', () => {
    const p = parseScope('patient/Observation.cru?category=vital-signs');
    expect(p?.context).toBe('patient');
    expect(p?.resourceType).toBe('Observation');
    expect([...(p?.interactions ?? [])].sort()).toEqual(['c', 'r', 'u']);
    expect(p?.filters).toEqual([['category', 'vital-signs']]);
  });

  // Each names the type and interaction it seems to grant, so "grants nothing" is asked of the
  // request it would otherwise allow (asking for another type would pass whatever the parser did).
  it.each([
    ['patient/Observation.rc', 'Observation', 'r'],
    ['patient/observation.r', 'Observation', 'r'],
    ['Observation.r', 'Observation', 'r'],
    ['patient/*.r?=x', 'Patient', 'r'],
    ['patient/Patient.', 'Patient', 'r'],
  ] as const)('rejects malformed scope %s (it grants nothing, not even %s.%s)', (s, resourceType, interaction) => {
    expect(parseScope(s)).toBeNull();
    const resource = resourceType === 'Observation' ? vitals : { resourceType };
    expect(scopesAllow([s], { resourceType, interaction, resource })).toBe(false);
  });

  it('a filter value is a literal code, never an expression: it matches only that exact code', () => {
    const scope = "patient/*.r?category=' OR 1=1";
    expect(parseScope(scope)?.filters).toEqual([['category', "' OR 1=1"]]);
    expect(scopesAllow([scope], { resourceType: 'Observation', interaction: 'r', resource: vitals })).toBe(false);
    expect(scopesAllow([scope], { resourceType: 'Patient', interaction: 'r' })).toBe(false);
    expect(scopesAllow([scope], { resourceType: 'Observation', interaction: 'r', resource: { resourceType: 'Observation', category: [{ coding: [{ code: "' OR 1=1" }] }] } })).toBe(true);
  });

  it('a filtered scope grants only on a resource matching the filter, never without a resource', () => {
    const scopes = ['patient/Observation.cu?category=vital-signs'];
    expect(scopesAllow(scopes, { resourceType: 'Observation', interaction: 'c', resource: vitals })).toBe(true);
    expect(scopesAllow(scopes, { resourceType: 'Observation', interaction: 'c', resource: lab })).toBe(false);
    expect(scopesAllow(scopes, { resourceType: 'Observation', interaction: 'c' })).toBe(false);
    expect(scopesAllow(scopes, { resourceType: 'Observation', interaction: 'd', resource: vitals })).toBe(false);
  });

  it('system|code tokens match both parts', () => {
    const s = ['patient/Observation.c?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs'];
    expect(scopesAllow(s, { resourceType: 'Observation', interaction: 'c', resource: vitals })).toBe(true);
    const other = { category: [{ coding: [{ system: 'urn:other', code: 'vital-signs' }] }] };
    expect(scopesAllow(s, { resourceType: 'Observation', interaction: 'c', resource: other })).toBe(false);
  });
});

describe('role matrix', () => {
  // [role, resourceType, interaction, resource?, expected]
  const cases: Array<[string, string, 'c' | 'r' | 'u' | 'd' | 's', unknown, boolean]> = [
    ['nurse', 'Observation', 'r', undefined, true],
    ['nurse', 'Patient', 's', undefined, true],
    ['nurse', 'Observation', 'c', vitals, true],
    ['nurse', 'Observation', 'c', lab, false],
    ['nurse', 'DocumentReference', 'c', { resourceType: 'DocumentReference' }, false],
    ['nurse', 'Condition', 'u', { resourceType: 'Condition' }, false],
    ['physician', 'DocumentReference', 'c', { resourceType: 'DocumentReference' }, true],
    ['physician', 'Condition', 'u', { resourceType: 'Condition' }, true],
    ['physician', 'MedicationRequest', 'd', { resourceType: 'MedicationRequest' }, true],
    ['physician', 'Observation', 'c', vitals, true],
    ['physician', 'Patient', 'u', { resourceType: 'Patient' }, false],
    ['billing', 'Patient', 'r', undefined, true],
    ['billing', 'Encounter', 's', undefined, true],
    ['billing', 'Observation', 'r', undefined, false],
    ['billing', 'Encounter', 'c', { resourceType: 'Encounter' }, false],
    ['privacy_officer', 'AuditEvent', 'r', undefined, true],
    ['privacy_officer', 'Patient', 'r', undefined, false],
    ['admin', 'Practitioner', 'c', { resourceType: 'Practitioner' }, true],
    ['admin', 'Observation', 'r', undefined, false],
  ];
  it.each(cases)('%s %s.%s -> %s', (role, resourceType, interaction, resource, expected) => {
    expect(rolesAllow([role as (typeof ROLES)[number]], { resourceType, interaction, resource })).toBe(expected);
  });

  it('every role scope parses (a typo would silently grant nothing)', () => {
    for (const r of ROLES) for (const s of ROLE_DEFINITIONS[r].scopes) expect(parseScope(s), s).not.toBeNull();
  });

  it('capabilities', () => {
    expect(hasCapability(['privacy_officer'], 'break-glass:review')).toBe(true);
    expect(hasCapability(['nurse'], 'break-glass:request')).toBe(true);
    expect(hasCapability(['billing'], 'break-glass:request')).toBe(false);
    expect(hasCapability(['admin'], 'users:manage')).toBe(true);
    expect(hasCapability(['physician'], 'audit:read')).toBe(false);
  });
});

describe('patient access', () => {
  const snap = { careTeam: ['p1', 'vip'], restricted: ['vip', 'vip2'], grants: ['p9'] };
  it.each([
    ['p1', false, 'care-team'],
    ['vip', false, 'care-team'],
    ['p9', false, 'grant'],
    ['p2', false, 'none'],
    ['p2', true, 'break-glass'],
    ['vip2', false, 'restricted'],
    ['vip2', true, 'break-glass'],
  ] as const)('%s (break-glass %s) -> %s', (id, bg, expected) => {
    const a = patientAccess(snap, id, bg);
    expect(a).toBe(expected);
    expect(isAccessible(a)).toBe(expected !== 'none' && expected !== 'restricted');
  });
});
