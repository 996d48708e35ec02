import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, USERS, createHarness, type Harness } from '../access/harness';

const DAY = 24 * 60 * 60_000;
let h: Harness;
afterEach(async () => h?.close());

describe('online login', () => {
  it('caches an Argon2id verifier with roles and the care-team snapshot, never the password', async () => {
    h = await createHarness();
    const status = await h.ok('auth.login', { username: 'nina', password: PASSWORD });
    expect(status).toMatchObject({ state: 'active', offline: false, user: { userId: 'u-nurse', roles: ['nurse'] } });
    const v = h.ws.vault.verifiers.getById('u-nurse');
    expect(v?.hash).toMatch(/^\$argon2id\$/);
    expect(v?.hash).not.toContain(PASSWORD);
    expect(v?.roles).toEqual(['nurse']);
    expect(h.ws.vault.kv.getJson('careteam:u-nurse')).toMatchObject({ careTeam: ['p-own', 'p-canary'], restricted: ['p-vip'] });
    await h.ws.close();
    // Nothing readable on disk: the password and the username are not in any file of the vault folder.
    for (const f of readdirSync(h.dir)) {
      const bytes = readFileSync(join(h.dir, f));
      expect(bytes.includes(Buffer.from(PASSWORD)), f).toBe(false);
      expect(bytes.includes(Buffer.from('careteam:u-nurse')), f).toBe(false);
    }
    h.close = async () => rmSync(h.dir, { recursive: true, force: true });
  });
});

describe('offline login', () => {
  it('works within the policy window with the cached verifier and cached care team', async () => {
    h = await createHarness({ policy: { offlineLoginDays: 7 } });
    await h.login('nina');
    await h.ok('auth.logout', {});
    h.server.online = false;
    h.clock.advance(7 * DAY - 60_000);
    const s = await h.ok('auth.login', { username: 'nina', password: PASSWORD });
    expect(s).toMatchObject({ state: 'active', offline: true });
    expect((await h.ok('patients.open', { patientId: 'p-own' })).patient.id).toBe('p-own');
    const login = h.since(0).filter((e) => e.type === 'login');
    expect(login.map((e) => e.reasonCode)).toEqual(['online', 'offline']);
  });

  it('is refused after the window, for an unknown user, and when the policy disables it', async () => {
    h = await createHarness({ policy: { offlineLoginDays: 2 } });
    await h.login('nina');
    await h.ok('auth.logout', {});
    h.server.online = false;
    h.clock.advance(2 * DAY + 1);
    const late = await h.call('auth.login', { username: 'nina', password: PASSWORD });
    expect(late.ok ? null : late.error.code).toBe('OFFLINE');
    const unknown = await h.call('auth.login', { username: 'phil', password: PASSWORD });
    expect(unknown.ok ? null : unknown.error.code).toBe('OFFLINE');
    const failed = h.since(0).filter((e) => e.type === 'login-failed');
    expect(failed.map((e) => [e.userId, e.reasonCode])).toEqual([
      ['u-nurse', 'OFFLINE'],
      [null, 'OFFLINE'],
    ]);
  });

  it('policy 0 days disables offline login', async () => {
    h = await createHarness({ policy: { offlineLoginDays: 0 } });
    await h.login('nina');
    await h.ok('auth.logout', {});
    h.server.online = false;
    const r = await h.call('auth.login', { username: 'nina', password: PASSWORD });
    expect(r.ok ? null : r.error.code).toBe('OFFLINE');
  });
});

describe('lockout after repeated failures', () => {
  it('locks the account offline after maxFailedLogins, even against the right password; an admin clears it', async () => {
    h = await createHarness({ policy: { maxFailedLogins: 3 } });
    await h.login('nina');
    await h.ok('auth.logout', {});
    h.server.online = false;
    for (let i = 0; i < 3; i++) {
      const r = await h.call('auth.login', { username: 'nina', password: `guess-${i}` });
      expect(r.ok ? null : r.error.code).toBe('UNAUTHENTICATED');
    }
    const locked = await h.call('auth.login', { username: 'nina', password: PASSWORD });
    expect(locked.ok ? null : locked.error.code).toBe('ACCOUNT_LOCKED');
    // Online too: the workstation's lockout holds whatever the server would say.
    h.server.online = true;
    const serverLogins = h.server.calls.length;
    const stillLocked = await h.call('auth.login', { username: 'nina', password: PASSWORD });
    expect(stillLocked.ok ? null : stillLocked.error.code).toBe('ACCOUNT_LOCKED');
    expect(h.server.calls.length, 'a locked account is not even tried against the server').toBe(serverLogins);

    await h.login('ada');
    const list = await h.ok('users.list', {});
    expect(list.find((u) => u.userId === 'u-nurse')).toMatchObject({ failedCount: 3 });
    expect(await h.ok('users.unlock', { userId: 'u-nurse' })).toEqual({ unlocked: true });
    await h.ok('auth.logout', {});
    await h.login('nina');
    expect(h.ws.sessions.front?.user.userId).toBe('u-nurse');
  });

  it('wrong passwords online count toward the local lockout', async () => {
    h = await createHarness({ policy: { maxFailedLogins: 3 } });
    await h.login('nina');
    await h.ok('auth.logout', {});
    for (let i = 0; i < 3; i++) await h.call('auth.login', { username: 'nina', password: 'wrong' });
    const r = await h.call('auth.login', { username: 'nina', password: PASSWORD });
    expect(r.ok ? null : r.error.code).toBe('ACCOUNT_LOCKED');
    // The lockout ends after its time.
    h.clock.advance(15 * 60_000 + 1);
    await h.login('nina');
  });

  it('the lock screen counts failures too: guessing at unlock locks the account', async () => {
    h = await createHarness({ policy: { maxFailedLogins: 3 } });
    await h.login('nina');
    h.ws.lockNow('idle');
    for (let i = 0; i < 3; i++) await h.call('auth.unlock', { password: 'wrong' });
    const r = await h.call('auth.unlock', { password: PASSWORD });
    expect(r.ok ? null : r.error.code).toBe('ACCOUNT_LOCKED');
    expect(h.ws.sessions.front?.state).toBe('locked');
  });
});

describe('several users on one workstation', () => {
  it('each user has their own session; switch user keeps the first locked; logout ends only one', async () => {
    h = await createHarness();
    await h.login('nina');
    await h.ok('auth.switchUser', {});
    await h.login('phil');
    const s = await h.ok('session.status', {});
    expect(s.user?.userId).toBe('u-phys');
    expect(s.sessions.map((x) => [x.userId, x.state])).toEqual([
      ['u-nurse', 'locked'],
      ['u-phys', 'active'],
    ]);
    // phil's role applies now, not nina's.
    const note = await h.call('records.save', {
      patientId: 'p-own',
      resource: { resourceType: 'Condition', subject: { reference: 'Patient/p-own' }, code: { text: 'Hypertension' }, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } },
    });
    expect(note.ok ? null : note.error).toBeNull();
    await h.ok('auth.logout', {});
    expect((await h.ok('session.status', {})).sessions.map((x) => x.userId)).toEqual(['u-nurse']);
    await h.login('nina');
    expect(h.ws.sessions.front?.user.userId).toBe('u-nurse');
  });
});

describe('care-team changes on the server', () => {
  it('reach the session at the next sync, without a new login', async () => {
    h = await createHarness();
    await h.login('nina');
    expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(false);
    const nina = USERS.find((u) => u.id === 'u-nurse') as (typeof USERS)[number];
    const before = [...nina.careTeam];
    try {
      nina.careTeam = ['p-other'];
      await h.ok('sync.now', {});
      expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(true);
      const own = await h.call('patients.open', { patientId: 'p-own' });
      expect(own.ok ? null : own.error.code).toBe('FORBIDDEN');
      // Offline, the last known care team stays in force.
      h.server.online = false;
      await h.ok('sync.now', {});
      expect((await h.call('patients.open', { patientId: 'p-other' })).ok).toBe(true);
    } finally {
      nina.careTeam = before;
    }
  });
});
