/**
 * patients.mine ("my patients"): the care team of the session's snapshot, only patients on this
 * workstation and accessible now (a restricted one only with a running grant), sorted by name,
 * paged, and audited like a search (one `search` entry per patient returned).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, containsCanary, createHarness, type Harness } from './harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('patients.mine', () => {
  it('lists the care team on this workstation by name, in pages, each page audited per patient', async () => {
    h = await createHarness();
    for (let i = 0; i < 5; i++) h.ws.vault.patients.upsert({ id: `p-team-${i}`, mrn: `MRN-T${i}`, givenNames: 'Tess', familyName: `Team${i}`, birthDate: '1970-01-01', gender: 'female' });
    await h.login('nina');
    const s = h.ws.sessions.front!;
    // Care team: two seeded patients, five more, and one not synced to this workstation yet.
    s.careTeam = { ...s.careTeam, careTeam: [...s.careTeam.careTeam, 'p-team-3', 'p-team-0', 'p-team-4', 'p-team-1', 'p-team-2', 'p-not-here'] };
    const mark = h.mark();
    const first = await h.ok('patients.mine', { limit: 4 });
    const second = await h.ok('patients.mine', { offset: first.nextOffset!, limit: 4 });
    expect(first.nextOffset).toBe(4);
    expect(second.nextOffset).toBeNull();
    const ids = [...first.patients, ...second.patients].map((p) => p.id);
    expect(ids).toHaveLength(7);
    expect(ids).not.toContain('p-not-here');
    expect(ids.filter((id) => id.startsWith('p-team-'))).toEqual(['p-team-0', 'p-team-1', 'p-team-2', 'p-team-3', 'p-team-4']);
    const entries = h.since(mark);
    expect(entries.map((e) => [e.type, e.patientId])).toEqual(ids.map((id) => ['search', id]));
    // Each page is one correlated search.
    expect(new Set(entries.slice(0, 4).map((e) => e.correlationId)).size).toBe(1);
    for (const e of entries) expect(containsCanary(e)).toBeNull();
    const summary = first.patients.find((p) => p.id === 'p-own');
    expect(summary).toEqual({ id: 'p-own', mrn: 'MRN-0001', family: 'Owens', given: ['Olive'], birthDate: '1980-01-02', gender: 'female', access: 'care-team' });
  });

  it('leaves out a restricted care-team patient unless a grant or an unexpired break-glass covers it', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 5 } });
    await h.login('nina');
    const s = h.ws.sessions.front!;
    s.careTeam = { ...s.careTeam, careTeam: [...s.careTeam.careTeam, 'p-vip'] };
    const ids = async () => (await h!.ok('patients.mine', {})).patients.map((p) => p.id);
    expect(await ids()).not.toContain('p-vip');
    await h.ok('breakGlass.request', { patientId: 'p-vip', reason: 'ETREAT', justification: 'Patient collapsed in the corridor, no records', password: PASSWORD });
    expect(await ids()).toContain('p-vip');
    h.clock.advance(5 * 60_000);
    h.ws.heartbeat();
    expect(await ids()).not.toContain('p-vip');
    s.careTeam = { ...s.careTeam, grants: ['p-vip'] };
    expect(await ids()).toContain('p-vip');
  });

  it('refuses input beyond its limits, and an empty care team is one audited empty search', async () => {
    h = await createHarness();
    await h.login('nina');
    for (const bad of [{ limit: 0 }, { limit: 101 }, { offset: -1 }, { offset: 1.5 }, { offset: 100_001 }, { extra: 1 }]) {
      const r = await h.call('patients.mine', bad as never);
      expect(['INVALID', 'TOO_LARGE']).toContain(r.ok ? null : r.error.code);
    }
    const s = h.ws.sessions.front!;
    s.careTeam = { ...s.careTeam, careTeam: [] };
    const mark = h.mark();
    expect(await h.ok('patients.mine', {})).toEqual({ patients: [], nextOffset: null });
    expect(h.since(mark).map((e) => [e.type, e.patientId])).toEqual([['search', null]]);
  });
});
