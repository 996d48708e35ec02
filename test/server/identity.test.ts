/** Login, lockout, refresh rotation with reuse detection, logout, enrollment, device revoke, forged tokens. */
import { randomUUID } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeResponseSchema, TokenResponseSchema, type TokenResponse } from '../../src-shared/sync';
import { DEMO, VARIANTS, call, enrollDevice, login, startTestServer, type TestServer } from './helpers';

describe.each(VARIANTS)('identity on $name', (variant) => {
  let server: TestServer;
  let deviceId: string;
  let clock = Date.now();
  beforeAll(async () => {
    server = await startTestServer(variant, { now: () => new Date(clock), config: { maxFailedLogins: 3 } });
    deviceId = (await enrollDevice(server)).deviceId;
  });
  afterAll(async () => server?.stop());

  const me = (token: string) => call(server, 'GET', '/v1/me', { token });
  const refresh = (refreshToken: string, dev = deviceId) => call<TokenResponse>(server, 'POST', '/v1/auth/refresh', { body: { refreshToken, deviceId: dev } });

  it('logs in with an access token of at most 15 minutes carrying a jti, and /me lists the care team', async () => {
    const t = TokenResponseSchema.parse(await login(server, DEMO.nurse, deviceId));
    const [, payload] = t.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { exp: number; iat: number; jti: string };
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(900);
    expect(claims.jti).toMatch(/[0-9a-f-]{36}/);
    expect(t.user.roles).toEqual(['nurse']);
    const res = await me(t.accessToken);
    expect(res.status).toBe(200);
    const body = MeResponseSchema.parse(res.body);
    expect(body.careTeamPatientIds).toContain('demo-p-0002');
    expect(body.careTeamPatientIds).not.toContain('demo-p-0010');
    // The seed's restricted patient is on no care team: the nurse is not told it exists, let alone that it is restricted.
    expect(body.restrictedPatientIds).toEqual([]);
  });

  it('refuses a wrong password with the same message as an unknown user, and locks after repeated failures', async () => {
    const bad = await call(server, 'POST', '/v1/auth/login', { body: { username: 'doctor2', password: 'nope', deviceId } });
    const unknown = await call(server, 'POST', '/v1/auth/login', { body: { username: 'nobody', password: 'nope', deviceId } });
    expect(bad.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect((bad.body as { message: string }).message).toBe((unknown.body as { message: string }).message);
    await call(server, 'POST', '/v1/auth/login', { body: { username: 'doctor2', password: 'nope', deviceId } });
    await call(server, 'POST', '/v1/auth/login', { body: { username: 'doctor2', password: 'nope', deviceId } });
    // Locked: even the right password is answered exactly like a wrong one (no 423 telling that the name exists).
    const locked = await call(server, 'POST', '/v1/auth/login', { body: { ...DEMO.doctor2, deviceId } });
    expect(locked.status).toBe(401);
    expect(locked.body).toEqual(unknown.body);
    clock += 16 * 60_000; // the lockout lapses
    expect((await call(server, 'POST', '/v1/auth/login', { body: { ...DEMO.doctor2, deviceId } })).status).toBe(200);
  });

  it('rotates refresh tokens; reusing an old one revokes the whole family', async () => {
    const t1 = await login(server, DEMO.doctor, deviceId);
    const r1 = await refresh(t1.refreshToken);
    expect(r1.status).toBe(200);
    expect(r1.body.refreshToken).not.toBe(t1.refreshToken);
    const r2 = await refresh(r1.body.refreshToken);
    expect(r2.status).toBe(200);
    // The thief replays the first token: refused, and the family (incl. the newest tokens) dies.
    expect((await refresh(t1.refreshToken)).status).toBe(401);
    expect((await refresh(r2.body.refreshToken)).status).toBe(401);
    expect((await me(r2.body.accessToken)).status).toBe(401);
    const audit = await server.db.query("SELECT severity FROM server_audit WHERE type = 'refresh-reuse'");
    expect(audit[0]).toMatchObject({ severity: 'high' });
  });

  it('logout revokes access and refresh tokens at once', async () => {
    const t = await login(server, DEMO.doctor, deviceId);
    expect((await me(t.accessToken)).status).toBe(200);
    expect((await call(server, 'POST', '/v1/auth/logout', { token: t.accessToken, body: { refreshToken: t.refreshToken } })).status).toBe(200);
    expect((await me(t.accessToken)).status).toBe(401);
    expect((await refresh(t.refreshToken)).status).toBe(401);
  });

  it('expired access tokens are refused', async () => {
    const t = await login(server, DEMO.nurse, deviceId);
    clock += 16 * 60_000;
    const res = await me(t.accessToken);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('forged tokens are refused: wrong key, alg none, tampered claims', async () => {
    const t = await login(server, DEMO.nurse, deviceId);
    const claims = JSON.parse(Buffer.from(t.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    const wrongKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7));
    const none = new UnsecuredJWT({ ...claims }).encode();
    const [h, , s] = t.accessToken.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'u-admin' })).toString('base64url')}.${s}`;
    for (const forged of [wrongKey, none, tampered]) {
      const res = await me(forged);
      expect(res.status).toBe(401);
    }
    expect((await me(t.accessToken)).status).toBe(200);
  });

  it('enrollment codes are one-time; unenrolled devices cannot log in', async () => {
    const code = await server.issueEnrollmentCode();
    const pub = 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE';
    const a = await call(server, 'POST', '/v1/devices/enroll', { body: { code, deviceId: `dev-${randomUUID()}`, publicKey: pub } });
    expect(a.status).toBe(200);
    const b = await call(server, 'POST', '/v1/devices/enroll', { body: { code, deviceId: `dev-${randomUUID()}`, publicKey: pub } });
    expect(b.status).toBe(403);
    const c = await call(server, 'POST', '/v1/auth/login', { body: { ...DEMO.nurse, deviceId: 'dev-never-enrolled' } });
    expect(c.status).toBe(403);
  });

  it('admin issues codes; non-admins cannot; revoking a device kills its tokens', async () => {
    const dev = await enrollDevice(server);
    const adminTokens = await login(server, DEMO.admin, deviceId);
    const nurseTokens = await login(server, DEMO.nurse, dev.deviceId);
    const byNurse = await call(server, 'POST', '/v1/admin/devices/enrollment-codes', { token: nurseTokens.accessToken, body: {} });
    expect(byNurse.status).toBe(403);
    const byAdmin = await call<{ code: string }>(server, 'POST', '/v1/admin/devices/enrollment-codes', { token: adminTokens.accessToken, body: {} });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.code).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
    expect((await me(nurseTokens.accessToken)).status).toBe(200);
    const revoked = await call(server, 'POST', `/v1/admin/devices/${dev.deviceId}/revoke`, { token: adminTokens.accessToken, body: {} });
    expect(revoked.status).toBe(200);
    expect((await me(nurseTokens.accessToken)).status).toBe(401);
    expect((await refresh(nurseTokens.refreshToken, dev.deviceId)).status).toBe(401);
    expect((await call(server, 'POST', '/v1/auth/login', { body: { ...DEMO.nurse, deviceId: dev.deviceId } })).status).toBe(403);
  });

  it('stores Argon2id hashes with OWASP parameters, never passwords', async () => {
    const rows = await server.db.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE username = 'nurse'");
    expect(rows[0]!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
