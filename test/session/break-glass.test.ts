import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelInput, EhrEvent } from '../../src-shared/api';
import { PASSWORD, containsCanary, createHarness, type Harness } from '../access/harness';

let h: Harness;
afterEach(async () => h?.close());

const request = (over: Record<string, unknown> = {}): ChannelInput<'breakGlass.request'> => ({
  patientId: 'p-other',
  reason: 'ETREAT',
  justification: 'Patient collapsed in the corridor, no records on my list',
  password: PASSWORD,
  ...(over as Partial<ChannelInput<'breakGlass.request'>>),
});

describe('break-glass', () => {
  it('refuses a reason outside the policy, a short justification and a wrong password; nothing granted', async () => {
    h = await createHarness({ policy: { breakGlassReasons: ['ETREAT'], breakGlassMinJustificationChars: 30 } });
    await h.login('nina');
    const bad = [
      [request({ reason: 'BTG' }), 'INVALID'],
      [request({ reason: 'NOT-A-REASON' }), 'INVALID'],
      [request({ justification: 'too short' }), 'INVALID'],
      [request({ justification: '                                      ' }), 'INVALID'],
      [request({ password: 'wrong' }), 'UNAUTHENTICATED'],
      [request({ patientId: 'p-does-not-exist' }), 'NOT_FOUND'],
    ] as const;
    // Online the server decides that an id does not exist; offline only a patient in this vault can be granted.
    const offlineUnknown = async () => {
      h.server.online = false;
      const r = await h.call('breakGlass.request', request({ patientId: 'p-not-here-either' }));
      h.server.online = true;
      return r.ok ? null : r.error.code;
    };
    for (const [input, code] of bad) {
      const r = await h.call('breakGlass.request', input as never);
      expect(r.ok ? null : r.error.code).toBe(code);
    }
    expect(await offlineUnknown()).toBe('NOT_FOUND');
    expect(await h.ok('breakGlass.active', {})).toEqual([]);
    expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(false);
    const attempts = h.since(0).filter((e) => e.type === 'break-glass-start');
    expect(attempts.map((e) => [e.outcome, e.reasonCode])).toEqual([['failure', 'UNAUTHENTICATED']]);
  });

  it('offline: grants one patient for the policy minutes, queues the alert, audits start and end (high)', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 30 } });
    const events: EhrEvent[] = [];
    h.ws.onEvent((e) => events.push(e));
    await h.login('phil');
    h.server.online = false;
    const grant = await h.ok('breakGlass.request', request());
    expect(grant.expiresAt - grant.startedAt).toBe(30 * 60_000);
    expect(h.server.calls, 'the server was tried first').toContain('breakGlass');
    expect(grant.grantId).not.toMatch(/^srv-/);
    // One patient only.
    expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(true);
    expect((await h.call('patients.open', { patientId: 'p-vip' })).ok).toBe(false);
    const status = await h.ok('session.status', {});
    expect(status.breakGlass.map((g) => g.patientId)).toEqual(['p-other']);
    // The alert waits in the vault for the server, justification included (encrypted at rest).
    const pending = h.ws.breakGlassAlerts.pending();
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ patientId: 'p-other', userId: 'u-phys', reason: 'ETREAT', origin: 'offline', delivered: false });

    // The chart stays open: heartbeats keep the session alive; the grant warns, then expires mid-chart.
    for (let t = 0; t < 30; t++) {
      h.clock.advance(60_000);
      h.ws.heartbeat();
    }
    expect(events.map((e) => e.event)).toContain('breakGlass.expiring');
    expect(events.map((e) => e.event)).toContain('breakGlass.expired');
    const after = await h.call('records.list', { patientId: 'p-other' });
    expect(after.ok ? null : after.error.code).toBe('FORBIDDEN');
    const bg = h.since(0).filter((e) => e.type.startsWith('break-glass'));
    expect(bg.map((e) => [e.type, e.severity, e.patientId, e.reasonCode])).toEqual([
      ['break-glass-start', 'high', 'p-other', 'ETREAT'],
      ['break-glass-end', 'high', 'p-other', 'expired'],
    ]);
    for (const e of events) expect(containsCanary(e.payload)).toBeNull();
  });

  it('online: the server grants it (its alert), the local policy caps the duration', async () => {
    h = await createHarness({ policy: { breakGlassMinutes: 10 } });
    await h.login('nina');
    const grant = await h.ok('breakGlass.request', request({ reason: 'BTG' }));
    expect(grant.grantId).toBe('srv-grant-p-other');
    expect(grant.expiresAt - grant.startedAt).toBe(10 * 60_000);
    expect(h.server.calls).toContain('breakGlass');
    expect(h.ws.breakGlassAlerts.pending()).toEqual([]);
    expect(h.ws.breakGlassAlerts.all()[0]).toMatchObject({ origin: 'server', delivered: true });
  });

  it('ending early and logging out both end the grant with an audit entry', async () => {
    h = await createHarness();
    await h.login('nina');
    await h.ok('breakGlass.request', request());
    expect(await h.ok('breakGlass.end', { patientId: 'p-other' })).toEqual({ ended: true });
    expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(false);
    await h.ok('breakGlass.request', request({ patientId: 'p-vip' }));
    await h.ok('auth.logout', {});
    const ends = h.since(0).filter((e) => e.type === 'break-glass-end');
    expect(ends.map((e) => [e.patientId, e.reasonCode])).toEqual([
      ['p-other', 'ended'],
      ['p-vip', 'logout'],
    ]);
    expect(h.ws.breakGlassAlerts.all().find((a) => a.patientId === 'p-vip')?.restricted).toBe(true);
  });

  it('billing cannot break the glass', async () => {
    h = await createHarness();
    await h.login('bill');
    const r = await h.call('breakGlass.request', request());
    expect(r.ok ? null : r.error.code).toBe('FORBIDDEN');
  });
});
