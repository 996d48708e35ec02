/**
 * Issue 13, classes 3 and 7:
 * 3. the failure counter is one atomic update; every password check (sign-in, break-glass
 *    re-authentication) counts toward the same lockout; per-account and per-source limits answer
 *    429 with Retry-After; a locked account is answered exactly like a wrong password;
 * 7. a correctly signed token living longer than the configured lifetime (or without iat/exp) is refused.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileKeyProvider } from '../../src-server/index';
import { serverSecret } from '../../src-server/keys/sealed';
import { DEMO, VARIANTS, call, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe.each(VARIANTS)('sign-in hardening on $name', (variant) => {
  let server: TestServer;
  let deviceId: string;
  let clock = Date.now();
  const PER_ACCOUNT = 12;
  const PER_SOURCE = 40;
  beforeAll(async () => {
    server = await startTestServer(variant, {
      now: () => new Date(clock),
      config: { maxFailedLogins: 5, lockoutMinutes: 15, authThrottle: { windowSeconds: 600, perAccount: PER_ACCOUNT, perSource: PER_SOURCE } },
    });
    deviceId = (await enrollDevice(server)).deviceId;
  });
  afterAll(async () => server?.stop());
  // Each case starts after every window and lockout of the one before has lapsed.
  beforeEach(() => {
    clock += 20 * 60_000;
  });

  const attempt = (username: string, password: string) => call(server, 'POST', '/v1/auth/login', { body: { username, password, deviceId } });

  it('20 wrong passwords in parallel lock the account: the right password then fails, answered like a wrong one', async () => {
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt('doctor', `wrong-${i}`)));
    for (const r of wrong) expect([401, 429]).toContain(r.status);
    const [row] = await server.db.query<{ failed_logins: number; locked: boolean }>(
      'SELECT failed_logins, locked_until > $1 AS locked FROM users WHERE username = $2', [new Date(clock), 'doctor'],
    );
    expect(row!.locked).toBe(true);
    // Every guess verified before the lock counted (one atomic increment each), so the limit was reached.
    expect(row!.failed_logins).toBeGreaterThanOrEqual(5);
    // At once: the name is over its rate limit, so the right password gets what a wrong one gets.
    const rightNow = await attempt(DEMO.doctor.username, DEMO.doctor.password);
    const wrongNow = await attempt(DEMO.doctor.username, 'wrong-again');
    expect(rightNow.status).not.toBe(200);
    expect({ status: rightNow.status, body: rightNow.body }).toEqual({ status: wrongNow.status, body: wrongNow.body });
    // The rate window lapses (10 min) while the lockout (15 min) holds: the right password is a 401 exactly like an unknown name's.
    clock += 11 * 60_000;
    const right = await attempt(DEMO.doctor.username, DEMO.doctor.password);
    const unknown = await attempt(`nobody-${randomUUID()}`, 'whatever');
    expect(right.status).toBe(401);
    expect(right.body).toEqual(unknown.body);
    const audit = await server.db.query("SELECT 1 FROM server_audit WHERE type = 'account-locked' AND user_id = 'u-physician'");
    expect(audit.length).toBe(1);
  });

  it('break-glass re-authentication counts toward the same lockout', async () => {
    const nurse = (await login(server, DEMO.nurse, deviceId)).accessToken;
    const breakGlass = (password: string) =>
      call(server, 'POST', '/v1/break-glass', { token: nurse, body: { patientId: 'demo-p-0001', reason: 'ETREAT', justification: 'Unconscious, no chart available', password } });
    for (let i = 0; i < 5; i++) expect((await breakGlass(`guess-${i}`)).status).toBe(401);
    // Locked now: neither a sign-in nor a break-glass with the right password gets through.
    expect((await attempt(DEMO.nurse.username, DEMO.nurse.password)).status).toBe(401);
    expect((await breakGlass(DEMO.nurse.password)).status).toBe(401);
    expect(await server.db.query("SELECT 1 FROM break_glass_grants WHERE user_id = 'u-nurse'")).toHaveLength(0);
    clock += 16 * 60_000;
    expect((await attempt(DEMO.nurse.username, DEMO.nurse.password)).status).toBe(200);
  });

  it('per account name: over the limit answers 429 with Retry-After, for unknown names too (no oracle)', async () => {
    const name = `ghost-${randomUUID()}`;
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await attempt(name, `x-${i}`)).status).toBe(401);
    const limited = await attempt(name, 'x');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(600);
    // The name is never stored in the clear (it may be anything a user typed into the box).
    const rows = await server.db.query<{ key: string }>('SELECT key FROM auth_throttle');
    expect(JSON.stringify(rows)).not.toContain(name);
  });

  it('per source: many names from one address are throttled with 429 + Retry-After, even for a right password', async () => {
    let limited = null;
    for (let i = 0; i < PER_SOURCE + 1 && !limited; i++) {
      const r = await attempt(`spray-${i}-${randomUUID()}`, 'Winter2026!');
      if (r.status === 429) limited = r;
      else expect(r.status).toBe(401);
    }
    expect(limited?.headers['retry-after']).toBeDefined();
    expect((await attempt(DEMO.doctor2.username, DEMO.doctor2.password)).status).toBe(429);
    clock += 11 * 60_000; // the window lapses
    expect((await attempt(DEMO.doctor2.username, DEMO.doctor2.password)).status).toBe(200);
  });

  it('refuses a correctly signed token whose lifetime exceeds the configured one, or that lacks iat', async () => {
    const t = await login(server, DEMO.doctor2, deviceId);
    const claims = JSON.parse(Buffer.from(t.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> & { iat: number; exp: number };
    const jwtKey = new Uint8Array(await serverSecret(server.db, new FileKeyProvider(join(server.dir, 'kek')), 'jwt-hs256'));
    const sign = (c: Record<string, unknown>) => new SignJWT(c).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(jwtKey);
    const me = (token: string) => call(server, 'GET', '/v1/me', { token });
    // Control: the same claims re-signed are accepted, so a refusal below is the lifetime's.
    expect((await me(await sign(claims))).status).toBe(200);
    const tenYears = { ...claims, exp: claims.iat + 10 * 365 * 24 * 3600 };
    const oneSecondTooLong = { ...claims, exp: claims.iat + 901 };
    const { iat: _iat, ...noIat } = claims;
    const future = { ...claims, iat: claims.iat + 3600, exp: claims.iat + 3600 + 600 };
    for (const forged of [tenYears, oneSecondTooLong, noIat, future]) {
      const res = await me(await sign(forged));
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});
