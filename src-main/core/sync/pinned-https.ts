/**
 * HTTPS to the sync server with its certificate pinned to the SHA-256 fingerprint from IT policy.
 *
 * Why a custom Agent.createConnection rather than `checkServerIdentity`: Node only calls
 * checkServerIdentity when the chain already verified, and with `rejectUnauthorized: false` (needed
 * for a clinic's self-signed certificate) it skips it entirely. So we do the TLS handshake
 * ourselves, compare the peer certificate's fingerprint256 with the pin, and only then hand the
 * socket to http — nothing (no password, no token, no envelope) is written to an unverified peer.
 * TLS session resumption is off so every connection presents, and is checked against, a certificate.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { EhrError, ErrorCode } from '../../../src-shared/errors';

/** Normalise "AB:CD:..." or "abcd..." to 64 lowercase hex digits. */
export function normaliseFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toLowerCase();
}

/** The server's certificate is not the one IT pinned: a distinct error, never retried silently. */
export class CertificatePinError extends EhrError {
  override readonly name = 'CertificatePinError';
  constructor(expected: string, actual: string | null) {
    super(
      ErrorCode.INTEGRITY,
      'The sync server presented a certificate that does not match the fingerprint pinned by IT policy. Sync is stopped; contact IT (possible interception or an unannounced certificate change).',
      { reason: 'CERT_PIN_MISMATCH', expectedFingerprint: expected, actualFingerprint: actual },
    );
  }
}

export function isCertificatePinError(e: unknown): e is CertificatePinError {
  return e instanceof EhrError && e.detail?.reason === 'CERT_PIN_MISMATCH';
}

type ConnectCallback = (err: Error | null, socket: Duplex) => void;

export class PinnedAgent extends https.Agent {
  private readonly pin: string;

  constructor(fingerprint: string, options: https.AgentOptions = {}) {
    // maxCachedSessions 0: no TLS session resumption, so the certificate is presented every time.
    super({ keepAlive: true, maxSockets: 8, ...options, maxCachedSessions: 0 });
    this.pin = normaliseFingerprint(fingerprint);
    if (!/^[0-9a-f]{64}$/.test(this.pin)) {
      throw new EhrError(ErrorCode.INVALID, 'The pinned server certificate fingerprint must be 64 hex digits (SHA-256).');
    }
  }

  // http.Agent supports an asynchronous createConnection: return nothing, call back with the socket.
  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): Duplex | undefined {
    const done = callback ?? (() => {});
    let settled = false;
    const settle = (err: Error | null, socket?: Duplex): void => {
      if (settled) return;
      settled = true;
      // http's callback type wants a socket even on error; it ignores it when err is set.
      done(err, socket as Duplex);
    };
    const socket = tls.connect({
      ...(options as tls.ConnectionOptions),
      // Trust comes from the pin, checked below; chain validation cannot work for a self-signed cert.
      rejectUnauthorized: false,
      session: undefined,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const actual = cert && cert.fingerprint256 ? normaliseFingerprint(cert.fingerprint256) : null;
      if (actual !== this.pin) {
        socket.destroy();
        settle(new CertificatePinError(this.pin, actual));
        return;
      }
      socket.removeListener('error', onEarlyError);
      settle(null, socket);
    });
    const onEarlyError = (err: Error): void => settle(err);
    socket.once('error', onEarlyError);
    return undefined;
  }
}
