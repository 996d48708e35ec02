/** A throwaway self-signed certificate for local HTTPS test servers (Debian's openssl CLI). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** SHA-256 fingerprint as Node reports it ("AB:CD:..."). */
  fingerprint256: string;
}

export function makeSelfSignedCert(commonName = 'localhost'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${commonName}`,
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const certPem = readFileSync(cert, 'utf8');
    return { certPem, keyPem: readFileSync(key, 'utf8'), fingerprint256: new X509Certificate(certPem).fingerprint256 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
