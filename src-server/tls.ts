/**
 * TLS material. Production passes its own certificate and key; on a first run without them the
 * server makes a local CA and a server certificate (ECDSA P-256) in <dataDir>/tls and reuses them
 * on later runs. Clients pin the server certificate's SHA-256 fingerprint, printed at start.
 */
import { X509Certificate, createHash, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import './reflect-polyfill';
import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** CA certificate (PEM) when generated locally, for clients that verify the chain. */
  ca?: string;
  /** SHA-256 of the server certificate's DER, lowercase hex, no colons. */
  fingerprint: string;
}

export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

export function loadTls(certPath: string, keyPath: string): TlsMaterial {
  const cert = readFileSync(certPath, 'utf8');
  return { cert, key: readFileSync(keyPath, 'utf8'), fingerprint: certificateFingerprint(cert) };
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}

/** Loads <dir>/server.{crt,key} or creates a CA + server certificate there (hostnames: localhost, 127.0.0.1, ::1, extra). */
export async function ensureLocalTls(dir: string, extraHostnames: string[] = []): Promise<TlsMaterial> {
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  const caPath = join(dir, 'ca.crt');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { ...loadTls(certPath, keyPath), ...(existsSync(caPath) ? { ca: readFileSync(caPath, 'utf8') } : {}) };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const now = new Date(Date.now() - 60_000);
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=Clinic EHR local CA',
    keys: caKeys,
    notBefore: now,
    notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = ['localhost', ...extraHostnames];
  const serverCert = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: caCert.subject,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 2 * 365 * 86_400_000),
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.map((value) => ({ type: 'dns' as const, value })),
        { type: 'ip' as const, value: '127.0.0.1' },
        { type: 'ip' as const, value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const cert = serverCert.toString('pem');
  const ca = caCert.toString('pem');
  const key = await pkcs8Pem(serverKeys.privateKey);
  writeFileSync(caPath, ca, { mode: 0o644 });
  // The CA key is kept so IT can re-issue, readable by the server user only.
  writeFileSync(join(dir, 'ca.key'), await pkcs8Pem(caKeys.privateKey), { mode: 0o600 });
  writeFileSync(keyPath, key, { mode: 0o600 });
  writeFileSync(certPath, cert, { mode: 0o644 });
  return { key, cert, ca, fingerprint: certificateFingerprint(cert) };
}
