/** Device Ed25519 public keys: accepted as base64url raw (32 bytes) or SPKI DER; stored as SPKI DER base64url. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { EhrError, ErrorCode } from '../../src-shared/errors';

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function parseDevicePublicKey(b64u: string): KeyObject {
  const raw = Buffer.from(b64u, 'base64url');
  const der = raw.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, raw]) : raw;
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return key;
  } catch {
    throw new EhrError(ErrorCode.INVALID, 'The device public key must be an Ed25519 key (raw 32 bytes or SPKI DER, base64url).');
  }
}

export const spkiB64u = (key: KeyObject): string => (key.export({ format: 'der', type: 'spki' }) as Buffer).toString('base64url');
