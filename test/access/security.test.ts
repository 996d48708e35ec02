/**
 * Security cases beyond the matrix: IDOR across charts, scope filters on the resource itself,
 * optimistic versions, injection strings, oversized payloads, invalid FHIR (nothing half-written),
 * restricted records in search, and what billing may see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, type ChartResource } from '../../src-shared/api';
import { CANARY, containsCanary, createHarness, vitals, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

async function as(username: string) {
  await h.ok('auth.switchUser', {});
  await h.login(username);
}

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);

describe('cross-chart access (IDOR)', () => {
  it("a record of another patient cannot be read through an accessible patient's id", async () => {
    await as('nina');
    expect(code(await h.call('records.get', { patientId: 'p-own', recordId: 'obs-p-other' }))).toBe('NOT_FOUND');
    expect(code(await h.call('records.get', { patientId: 'p-own', recordId: 'obs-p-own' }))).toBe('ok');
  });

  it('a write naming another patient in its subject is refused and leaves nothing behind', async () => {
    await as('nina');
    const outbox = h.ws.vault.outbox.count();
    const mark = h.mark();
    const r = await h.call('records.save', { patientId: 'p-own', resource: vitals('p-other') });
    expect(code(r)).toBe('INVALID');
    expect(h.ws.vault.outbox.count()).toBe(outbox);
    expect(h.since(mark)).toEqual([]);
  });

  it('an update cannot move a record between charts or be applied to a stale version', async () => {
    await as('phil');
    const created = await h.ok('records.save', { patientId: 'p-own', resource: vitals('p-own', 70) });
    const stored = h.ws.vault.resources.get(created.id)?.resource as ChartResource;
    expect(code(await h.call('records.save', { patientId: 'p-canary', baseVersion: 0, resource: { ...stored, subject: { reference: 'Patient/p-canary' } } as ChartResource }))).toBe('NOT_FOUND');
    expect(code(await h.call('records.save', { patientId: 'p-own', baseVersion: 3, resource: stored }))).toBe('CONFLICT');
    expect(code(await h.call('records.delete', { patientId: 'p-own', recordId: created.id, baseVersion: 3 }))).toBe('CONFLICT');
    expect(h.ws.vault.resources.get(created.id)?.status).toBe('pending');
  });

  it('a caller-chosen id on create is ignored (ids are never free text)', async () => {
    await as('nina');
    const r = await h.ok('records.save', { patientId: 'p-own', resource: { ...vitals('p-own'), id: 'Zebediah-Canarywhistle' } as ChartResource });
    expect(r.id).not.toContain('Zebediah');
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('scopes are checked against the resource', () => {
  it('a nurse may record vital signs but not a lab result or a note', async () => {
    await as('nina');
    const lab = { ...vitals('p-own'), category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }] } as ChartResource;
    const mark = h.mark();
    expect(code(await h.call('records.save', { patientId: 'p-own', resource: lab }))).toBe('FORBIDDEN');
    expect(h.since(mark).map((e) => [e.type, e.patientId])).toEqual([['access-denied', 'p-own']]);
  });

  it('billing sees demographics and encounters only', async () => {
    // Encounters arrive by sync (no workstation role writes them).
    h.ws.vault.resources.put({
      resource: { resourceType: 'Encounter', id: 'enc-p-own', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'Patient/p-own' } },
      patientId: 'p-own',
      version: 1,
      status: 'synced',
    });
    await as('bill');
    const chart = await h.ok('patients.open', { patientId: 'p-own' });
    expect(chart.records.length).toBeGreaterThan(0);
    expect(new Set(chart.records.map((r) => r.resourceType))).toEqual(new Set(['Encounter']));
    expect(code(await h.call('records.get', { patientId: 'p-own', recordId: 'obs-p-own' }))).toBe('FORBIDDEN');
  });
});

describe('hostile input', () => {
  it.each(["' OR 1=1 --", "o'; DROP TABLE patients; --", '%', '_', '\\'])('search with %j finds nothing it should not and breaks nothing', async (name) => {
    await as('nina');
    const r = await h.call('patients.search', { name });
    expect(r.ok ? 'ok' : r.error.code).toMatch(/^(ok|INVALID)$/);
    if (r.ok) expect(r.value.length).toBeLessThanOrEqual(4);
    expect(h.ws.vault.patients.count()).toBe(4);
  });

  it('an oversized resource or draft is refused as TOO_LARGE before anything is touched', async () => {
    await as('nina');
    const huge = { ...vitals('p-own'), note: [{ text: 'x'.repeat(LIMITS.resourceBytes) }] } as ChartResource;
    expect(code(await h.call('records.save', { patientId: 'p-own', resource: huge }))).toBe('TOO_LARGE');
    expect(code(await h.call('drafts.save', { key: 'k', content: 'x'.repeat(LIMITS.draftBytes + 1) }))).toBe('TOO_LARGE');
    expect(code(await h.ws.invoke('patients.search', { name: 'x'.repeat(2 * 1024 * 1024) }))).toBe('TOO_LARGE');
  });

  it('invalid FHIR is refused by the vault; resource, outbox and audit are all rolled back; no PHI in the error', async () => {
    await as('nina');
    const outbox = h.ws.vault.outbox.count();
    const resources = h.ws.vault.resources.count();
    const mark = h.mark();
    const bad = { ...vitals('p-own'), valueQuantity: { value: CANARY.note }, note: [{ text: CANARY.note }] } as unknown as ChartResource;
    const r = await h.call('records.save', { patientId: 'p-own', resource: bad });
    expect(code(r)).toBe('INVALID');
    expect(containsCanary(r)).toBeNull();
    expect([h.ws.vault.outbox.count(), h.ws.vault.resources.count(), h.since(mark).length]).toEqual([outbox, resources, 0]);
  });

  it('unknown channels and non-JSON input are refused with typed codes', async () => {
    await as('nina');
    expect(code(await h.ws.invoke('vault.dump', {}))).toBe('INVALID');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(code(await h.ws.invoke('patients.search', cyclic))).toBe('INVALID');
    expect(code(await h.ws.invoke('patients.search', { name: 'o', extra: 1 }))).toBe('INVALID');
  });
});

describe('restricted records in search', () => {
  it('appear without demographics until the glass is broken; care-team patients appear in full', async () => {
    await as('nina');
    const found = await h.ok('patients.search', { name: 'o' });
    const vip = await h.ok('patients.search', { mrn: 'MRN-0004' });
    expect(vip).toEqual([{ id: 'p-vip', mrn: 'MRN-0004', family: null, given: [], birthDate: null, gender: null, access: 'restricted' }]);
    expect(found.find((p) => p.id === 'p-own')).toMatchObject({ family: 'Owens', access: 'care-team' });
    const canary = await h.ok('patients.search', { mrn: CANARY.mrn });
    expect(canary[0]).toMatchObject({ family: CANARY.family, access: 'care-team' });
  });
});
