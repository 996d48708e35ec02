import { afterEach, describe, expect, it } from 'vitest';
import type { EhrEvent } from '../../src-shared/api';
import { createHarness, type Harness } from '../access/harness';

let h: Harness;
afterEach(async () => h?.close());

async function start(policy = {}): Promise<EhrEvent[]> {
  h = await createHarness({ policy });
  const events: EhrEvent[] = [];
  h.ws.onEvent((e) => events.push(e));
  await h.login('nina');
  events.length = 0;
  return events;
}
const names = (events: EhrEvent[]) => events.map((e) => e.event).filter((n) => n !== 'session.changed');

describe('inactivity lock through the workstation (fake clock)', () => {
  it('default 15 minutes: warning first, lock at the minute, then every data call is LOCKED', async () => {
    const events = await start();
    h.clock.advance(14 * 60_000 - 1);
    expect((await h.call('patients.open', { patientId: 'p-own' })).ok).toBe(true);
    expect(names(events)).toEqual([]);
    h.clock.advance(1);
    expect(names(events)).toEqual(['session.lockWarning']);
    expect(events.find((e) => e.event === 'session.lockWarning')?.payload).toMatchObject({ secondsLeft: 60 });
    h.clock.advance(60_000 - 1);
    expect(h.ws.sessions.front?.state).toBe('warning');
    h.clock.advance(1);
    expect(names(events)).toEqual(['session.lockWarning', 'session.locked']);
    const r = await h.call('patients.open', { patientId: 'p-own' });
    expect(r.ok ? null : r.error.code).toBe('LOCKED');
    const lock = h.since(0).filter((e) => e.type === 'lock');
    expect(lock.map((e) => [e.userId, e.reasonCode])).toEqual([['u-nurse', 'idle']]);
  });

  it('API calls alone do not keep the session alive; heartbeats do', async () => {
    const events = await start({ lockTimeoutMinutes: 5, lockWarningSeconds: 30 });
    for (let i = 0; i < 9; i++) {
      h.clock.advance(60_000);
      await h.ok('session.heartbeat', {});
    }
    expect(names(events)).toEqual([]);
    h.clock.advance(5 * 60_000);
    expect(names(events)).toEqual(['session.lockWarning', 'session.locked']);
  });

  it('the lock holds even if the timer has not run yet (main is the guarantee)', async () => {
    await start({ lockTimeoutMinutes: 2 });
    // Move time without running timers, as a blocked event loop would.
    (h.clock as unknown as { current: number }).current += 2 * 60_000;
    const r = await h.call('records.list', { patientId: 'p-own' });
    expect(r.ok ? null : r.error.code).toBe('LOCKED');
  });

  it.each(['screen-lock', 'suspend', 'user'] as const)('lockNow(%s) locks at once, audited with its reason', async (reason) => {
    const events = await start();
    expect(h.ws.lockNow(reason)).toBe(true);
    expect(events.find((e) => e.event === 'session.locked')?.payload).toEqual({ reason, userId: 'u-nurse' });
    expect((await h.call('records.list', { patientId: 'p-own' })).ok).toBe(false);
    expect(h.since(0).filter((e) => e.type === 'lock').map((e) => e.reasonCode)).toEqual([reason]);
    await h.ok('auth.unlock', { password: 'correct horse battery staple' });
    expect((await h.call('records.list', { patientId: 'p-own' })).ok).toBe(true);
  });

  it('a policy above 15 minutes is refused, never applied', async () => {
    await expect(createHarness({ policy: { lockTimeoutMinutes: 30 } })).rejects.toThrow();
  });
});
