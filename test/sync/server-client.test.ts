import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerClient } from '../../src-main/core/sync/server-client';
import { CertificatePinError, PinnedAgent } from '../../src-main/core/sync/pinned-https';
import { EhrError } from '../../src-shared/errors';
import { makeSelfSignedCert, type TestCert } from './helpers/tls-cert';

/** A tiny HTTPS server that records what reached it, so we can prove nothing leaks to an impostor. */
function startHttps(cert: TestCert, handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const seen: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  return new Promise<{ url: string; seen: typeof seen; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({ url: `https://127.0.0.1:${port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) });
    });
  });
}

const user = { id: 'u-1', username: 'nurse1', displayName: 'Nurse One', roles: ['nurse'] };
function tokenBody(n: number) {
  const in15 = new Date(Date.now() + 900_000).toISOString();
  return { accessToken: `access-${n}`, accessExpiresAt: in15, refreshToken: `refresh-token-${n}-xxxxxxxx`, refreshExpiresAt: in15, user };
}

describe('server client: certificate pinning', () => {
  let good: TestCert;
  let impostor: TestCert;
  let srv: Awaited<ReturnType<typeof startHttps>>;
  let refreshes = 0;

  beforeAll(async () => {
    good = makeSelfSignedCert();
    impostor = makeSelfSignedCert();
    srv = await startHttps(good, (req, body, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/auth/login') {
        res.end(JSON.stringify(tokenBody(1)));
      } else if (req.url === '/v1/auth/refresh') {
        refreshes++;
        res.end(JSON.stringify(tokenBody(2)));
      } else if (req.url === '/v1/me') {
        if (req.headers.authorization === 'Bearer access-broken') {
          res.end(JSON.stringify({ careTeamPatientIds: 'Zebediah Canarywhistle' }));
          return;
        }
        if (req.headers.authorization !== 'Bearer access-2') {
          res.statusCode = 401;
          res.end(JSON.stringify({ code: 'UNAUTHENTICATED', message: 'Access token expired.' }));
          return;
        }
        res.end(JSON.stringify({ user, careTeamPatientIds: ['p-1'], restrictedPatientIds: [], breakGlassGrants: [] }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'No such route.' }));
      }
      void body;
    });
  });
  afterAll(async () => srv.close());

  it('talks to the server whose certificate matches the pin, with colons or without', async () => {
    for (const fp of [good.fingerprint256, good.fingerprint256.replace(/:/g, '').toLowerCase()]) {
      const client = createServerClient({ serverUrl: srv.url, fingerprint: fp, deviceId: 'dev-1' });
      const t = await client.login({ username: 'nurse1', password: 'pw' });
      expect(t.user.id).toBe('u-1');
      client.close();
    }
  });

  it('refuses a server with another certificate: distinct error, and nothing is sent to it', async () => {
    const before = srv.seen.length;
    const client = createServerClient({ serverUrl: srv.url, fingerprint: impostor.fingerprint256, deviceId: 'dev-1' });
    const err = await client.login({ username: 'nurse1', password: 'S3cret-Password' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CertificatePinError);
    expect((err as EhrError).code).toBe('INTEGRITY');
    expect((err as EhrError).message).toMatch(/certificate/i);
    expect((err as EhrError).detail?.reason).toBe('CERT_PIN_MISMATCH');
    expect((err as EhrError).detail?.actualFingerprint).toBe(good.fingerprint256.replace(/:/g, '').toLowerCase());
    // The server never saw the request (so never the password).
    expect(srv.seen.length).toBe(before);
    client.close();
  });

  it('rejects a malformed pin up front and a non-https URL', () => {
    expect(() => new PinnedAgent('abc')).toThrow(EhrError);
    expect(() => createServerClient({ serverUrl: 'http://127.0.0.1:1', fingerprint: good.fingerprint256, deviceId: 'd' })).toThrow(/https/);
  });

  it('maps an unreachable server to OFFLINE', async () => {
    const client = createServerClient({ serverUrl: 'https://127.0.0.1:1', fingerprint: good.fingerprint256, deviceId: 'dev-1' });
    const err = await client.login({ username: 'x', password: 'y' }).catch((e: unknown) => e);
    expect((err as EhrError).code).toBe('OFFLINE');
    client.close();
  });

  it('refreshes once on 401 and retries, sending the correlation header', async () => {
    const client = createServerClient({ serverUrl: srv.url, fingerprint: good.fingerprint256, deviceId: 'dev-1' });
    const seenTokens: (string | null)[] = [];
    client.onTokens((t) => seenTokens.push(t?.accessToken ?? null));
    await client.login({ username: 'nurse1', password: 'pw' });
    const me = await client.me({ correlationId: 'corr-12345678' });
    expect(me.careTeamPatientIds).toEqual(['p-1']);
    expect(refreshes).toBe(1);
    expect(seenTokens).toEqual(['access-1', 'access-2']);
    const meCalls = srv.seen.filter((s) => s.url === '/v1/me');
    expect(meCalls.at(-1)?.headers['x-audit-correlation-id']).toBe('corr-12345678');
    client.close();
  });

  it('surfaces server error bodies and refuses answers that break the protocol without echoing them', async () => {
    const client = createServerClient({ serverUrl: srv.url, fingerprint: good.fingerprint256, deviceId: 'dev-1' });
    const nf = await client.call({ method: 'GET', path: '/v1/nothing' }).catch((e: unknown) => e);
    expect((nf as EhrError).code).toBe('NOT_FOUND');
    client.setTokens({ accessToken: 'access-broken', refreshToken: 'refresh-token-2-xxxxxxxx' });
    const bad = await client.me().catch((e: unknown) => e);
    expect((bad as EhrError).code).toBe('INTEGRITY');
    expect(JSON.stringify((bad as EhrError).toJSON())).not.toContain('Canarywhistle');
    client.close();
  });
});
