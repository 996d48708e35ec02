/** HTTPS only, TLS 1.3 minimum; the printed fingerprint is the certificate the server presents. */
import { connect } from 'node:tls';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from './helpers';

describe('transport', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ name: 'pglite' }, { seed: 'none' });
  });
  afterAll(async () => server?.stop());

  const handshake = (opts: { minVersion?: 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }) =>
    new Promise<{ protocol: string | null; fingerprint: string }>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false, ...opts }, () => {
        const cert = sock.getPeerCertificate();
        resolve({ protocol: sock.getProtocol(), fingerprint: createHash('sha256').update(cert.raw).digest('hex') });
        sock.end();
      });
      sock.on('error', reject);
    });

  it('speaks TLS 1.3 and presents the certificate whose fingerprint it printed', async () => {
    const r = await handshake({ minVersion: 'TLSv1.3' });
    expect(r.protocol).toBe('TLSv1.3');
    expect(r.fingerprint).toBe(server.fingerprint);
  });

  it('refuses a TLS 1.2 client', async () => {
    await expect(handshake({ maxVersion: 'TLSv1.2' })).rejects.toThrow();
  });

  it('verifies against its generated CA, and keeps private keys 0600', async () => {
    const res = await call(server, 'GET', '/v1/health');
    expect(res.status).toBe(200);
    expect(statSync(join(server.dir, 'tls', 'server.key')).mode & 0o077).toBe(0);
    expect(statSync(join(server.dir, 'tls', 'ca.key')).mode & 0o077).toBe(0);
  });

  it('answers unknown routes with a JSON 404 and no stack', async () => {
    const res = await call(server, 'GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 'NOT_FOUND', message: 'No such route.' });
  });
});
