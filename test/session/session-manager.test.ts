import { describe, expect, it } from 'vitest';
import type { EhrEvent, UserInfo } from '../../src-shared/api';
import { FakeClock, SessionManager } from '../../src-main/core/session';

const alice: UserInfo = { userId: 'u-alice', username: 'alice', displayName: 'Alice N.', roles: ['nurse'] };
const bob: UserInfo = { userId: 'u-bob', username: 'bob', displayName: 'Bob P.', roles: ['physician'] };
const snap = { careTeam: ['p1'], restricted: [], grants: [] };

function setup(policy = { lockTimeoutMinutes: 15, lockWarningSeconds: 60 }) {
  const clock = new FakeClock();
  const events: EhrEvent[] = [];
  const locks: string[] = [];
  const sm = new SessionManager({ clock, policy, hooks: { emit: (e) => events.push(e), onLocked: (_s, r) => locks.push(r) } });
  const names = () => events.map((e) => e.event).filter((n) => n !== 'session.changed');
  return { clock, sm, events, names, locks };
}

describe('inactivity lock (fake clock)', () => {
  it('warns at timeout minus warning, locks exactly at the policy minute, not before', () => {
    const { clock, sm, names, locks } = setup();
    sm.begin(alice, { offline: false, careTeam: snap });
    clock.advance(14 * 60_000 - 1);
    expect(sm.front?.state).toBe('active');
    clock.advance(1);
    expect(sm.front?.state).toBe('warning');
    expect(names()).toEqual(['session.lockWarning']);
    clock.advance(60_000 - 1);
    expect(sm.front?.state).toBe('warning');
    clock.advance(1);
    expect(sm.front?.state).toBe('locked');
    expect(names()).toEqual(['session.lockWarning', 'session.locked']);
    expect(locks).toEqual(['idle']);
  });

  it('a policy may lower the timeout; a policy above 15 minutes is clamped to 15', () => {
    const low = setup({ lockTimeoutMinutes: 5, lockWarningSeconds: 30 });
    low.sm.begin(alice, { offline: false, careTeam: snap });
    low.clock.advance(5 * 60_000 - 1);
    expect(low.sm.front?.state).toBe('warning');
    low.clock.advance(1);
    expect(low.sm.front?.state).toBe('locked');

    const high = setup({ lockTimeoutMinutes: 60, lockWarningSeconds: 60 });
    high.sm.begin(alice, { offline: false, careTeam: snap });
    high.clock.advance(15 * 60_000);
    expect(high.sm.front?.state).toBe('locked');
  });

  it('heartbeats postpone the lock and clear the warning', () => {
    const { clock, sm } = setup();
    sm.begin(alice, { offline: false, careTeam: snap });
    clock.advance(14 * 60_000 + 30_000);
    expect(sm.front?.state).toBe('warning');
    expect(sm.heartbeat()).toBe(clock.now() + 15 * 60_000);
    expect(sm.front?.state).toBe('active');
    clock.advance(14 * 60_000);
    expect(sm.front?.state).toBe('warning');
    clock.advance(60_000);
    expect(sm.front?.state).toBe('locked');
    expect(sm.heartbeat()).toBeNull();
    expect(sm.front?.state).toBe('locked');
  });

  it('lockNow for screen lock / suspend locks at once and the unlock resumes the same session', () => {
    const { sm, locks, names } = setup();
    const s = sm.begin(alice, { offline: false, careTeam: snap });
    expect(sm.lock('screen-lock')).toBe(true);
    expect(sm.lock('suspend')).toBe(false);
    expect(locks).toEqual(['screen-lock']);
    expect(sm.unlockFront()?.sessionId).toBe(s.sessionId);
    expect(names()).toEqual(['session.locked', 'session.unlocked']);
  });
});

describe('several users on one workstation', () => {
  it('a second login locks the first in the background; switching back resumes it', () => {
    const { sm } = setup();
    const a = sm.begin(alice, { offline: false, careTeam: snap });
    sm.switchUser();
    expect(sm.status().state).toBe('none');
    sm.begin(bob, { offline: true, careTeam: snap });
    expect(sm.front?.user.userId).toBe('u-bob');
    expect(sm.sessionOf('u-alice')?.state).toBe('locked');
    expect(sm.status().sessions.map((x) => [x.username, x.state])).toEqual([
      ['alice', 'locked'],
      ['bob', 'active'],
    ]);
    const again = sm.begin(alice, { offline: false, careTeam: snap });
    expect(again.sessionId).toBe(a.sessionId);
    expect(sm.sessionOf('u-bob')?.state).toBe('locked');
  });

  it('logout forgets only the front session', () => {
    const { sm } = setup();
    sm.begin(alice, { offline: false, careTeam: snap });
    sm.begin(bob, { offline: false, careTeam: snap });
    expect(sm.logout()?.user.userId).toBe('u-bob');
    expect(sm.status().state).toBe('none');
    expect(sm.sessionOf('u-alice')).not.toBeNull();
    expect(sm.sessionOf('u-bob')).toBeNull();
  });
});

describe('break-glass timing', () => {
  it('warns 5 minutes before expiry, removes access at expiry and tells the renderer', () => {
    const { clock, sm, names } = setup();
    const s = sm.begin(alice, { offline: false, careTeam: snap });
    sm.heartbeat();
    const grant = { grantId: 'g1', patientId: 'p2', reason: 'ETREAT' as const, startedAt: clock.now(), expiresAt: clock.now() + 60 * 60_000 };
    sm.addBreakGlass(s, grant);
    // keep the screen awake while the chart is open
    for (let i = 0; i < 11; i++) {
      clock.advance(5 * 60_000);
      sm.heartbeat();
    }
    expect(names()).toContain('breakGlass.expiring');
    expect(sm.activeBreakGlass(s, 'p2')).toEqual(grant);
    clock.advance(5 * 60_000);
    expect(sm.activeBreakGlass(s, 'p2')).toBeNull();
    expect(names().filter((n) => n === 'breakGlass.expired')).toHaveLength(1);
  });

  it('access ends at expiresAt even before the timer has run', () => {
    const clock = new FakeClock();
    const sm = new SessionManager({ clock, policy: { lockTimeoutMinutes: 15, lockWarningSeconds: 60 }, hooks: { emit: () => {} } });
    const s = sm.begin(alice, { offline: false, careTeam: snap });
    sm.addBreakGlass(s, { grantId: 'g', patientId: 'p3', reason: 'BTG', startedAt: clock.now(), expiresAt: clock.now() + 1000 });
    // Move the clock without running timers (as if the event loop were busy).
    (clock as unknown as { current: number }).current += 1000;
    expect(sm.activeBreakGlass(s, 'p3')).toBeNull();
  });
});
