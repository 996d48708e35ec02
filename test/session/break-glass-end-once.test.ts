/**
 * A break-glass grant ends exactly once — expiry, revoke or logout, whichever comes first — and its
 * `break-glass-end` audit entry is written once. The server may still list the grant as running
 * after the local end (its own clock, a duration longer than the local cap): /v1/me after a sync or
 * the next login must not bring it back only to end (and audit) it a second time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelInput } from '../../src-shared/api';
import { FakeClock, SessionManager } from '../../src-main/core/session';
import { PASSWORD, createHarness, type Harness } from '../access/harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const request: ChannelInput<'breakGlass.request'> = {
  patientId: 'p-other',
  reason: 'ETREAT',
  justification: 'Patient collapsed in the corridor, no records on my list',
  password: PASSWORD,
};

/** The server keeps listing this grant as running for another hour (its clock, its duration). */
function serverStillLists(hh: Harness, grant: { grantId: string; patientId: string; reason: string; startedAt: number }): void {
  const me = hh.server.me.bind(hh.server);
  hh.server.me = async (tokens) => ({
    ...(await me(tokens)),
    grants: [{ id: grant.grantId, patientId: grant.patientId, reason: grant.reason, startsAt: new Date(grant.startedAt).toISOString(), expiresAt: new Date(hh.clock.now() + 60 * 60_000).toISOString() }],
  });
}

const ends = (hh: Harness) => hh.since(0).filter((e) => e.type === 'break-glass-end').map((e) => [e.patientId, e.reasonCode]);

describe('break-glass end is recorded once per grant', () => {
  it('expiry, then a sync that sees the grant on the server, then logout: one end (expired)', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 5 } });
    await h.login('nina');
    const grant = await h.ok('breakGlass.request', request);
    serverStillLists(h, grant);
    h.clock.advance(5 * 60_000);
    h.ws.heartbeat();
    expect(ends(h)).toEqual([['p-other', 'expired']]);
    await h.ok('sync.now', {});
    // Not restored: access stays ended, the grant is not listed.
    expect(await h.ok('breakGlass.active', {})).toEqual([]);
    expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(false);
    await h.ok('auth.logout', {});
    expect(ends(h)).toEqual([['p-other', 'expired']]);
  });

  it('logout first, then a new login that sees the grant on the server, then its expiry time: one end (logout)', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 5 } });
    await h.login('nina');
    const grant = await h.ok('breakGlass.request', request);
    serverStillLists(h, grant);
    await h.ok('auth.logout', {});
    expect(ends(h)).toEqual([['p-other', 'logout']]);
    await h.login('nina');
    expect((await h.ok('session.status', {})).breakGlass).toEqual([]);
    h.clock.advance(60 * 60_000);
    h.ws.heartbeat();
    await h.call('auth.logout', {});
    expect(ends(h)).toEqual([['p-other', 'logout']]);
  });

  it('revoke, then the expiry time, then logout: one end (ended)', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 5 } });
    await h.login('nina');
    await h.ok('breakGlass.request', request);
    expect(await h.ok('breakGlass.end', { patientId: 'p-other' })).toEqual({ ended: true });
    expect(await h.ok('breakGlass.end', { patientId: 'p-other' })).toEqual({ ended: false });
    h.clock.advance(5 * 60_000);
    h.ws.heartbeat();
    await h.ok('auth.logout', {});
    expect(ends(h)).toEqual([['p-other', 'ended']]);
  });

  it('session manager: the expiry seen on a call, then the timer, then logout, then the same grant again: one end', () => {
    const clock = new FakeClock();
    const ended: string[] = [];
    const sm = new SessionManager({
      clock,
      policy: { lockTimeoutMinutes: 15, lockWarningSeconds: 60 },
      hooks: { emit: () => {}, onBreakGlassEnded: (_s, g, cause) => ended.push(`${g.grantId}:${cause}`) },
    });
    const s = sm.begin({ userId: 'u1', username: 'u1', displayName: 'U', roles: ['nurse'] }, { offline: false, careTeam: { careTeam: [], restricted: [], grants: [] } });
    const grant = { grantId: 'g1', patientId: 'p9', reason: 'BTG' as const, startedAt: clock.now(), expiresAt: clock.now() + 60_000 };
    expect(sm.addBreakGlass(s, grant)).toBe(true);
    expect(sm.addBreakGlass(s, grant), 'the same running grant is not restarted').toBe(true);
    (clock as unknown as { current: number }).current += 60_000; // past expiry, timers not yet run
    expect(sm.activeBreakGlass(s, 'p9')).toBeNull();
    clock.advance(1);
    expect(sm.addBreakGlass(s, { ...grant, expiresAt: clock.now() + 60_000 }), 'an ended grant does not come back').toBe(false);
    expect(sm.activeBreakGlass(s, 'p9')).toBeNull();
    sm.logout();
    expect(sm.hasEnded('g1')).toBe(true);
    expect(ended).toEqual(['g1:expired']);
  });
});
