/**
 * Record envelopes: how a FHIR resource leaves the workstation and how the server stores it.
 *
 * AES-256-GCM under the patient's data key, a fresh random 96-bit nonce per seal, and additional
 * authenticated data (AAD) binding the envelope to its record id, patient id, resource type,
 * version and key id. So changing any byte, or moving a sealed record to another record, patient,
 * version or key id, makes `open` fail — with EhrError('INTEGRITY') that names ids only.
 *
 * One module for client and server (the server's demo seed seals with it too).
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { EhrError, ErrorCode } from '../errors';

export interface EnvelopeBinding {
  recordId: string;
  patientId: string;
  resourceType: string;
  /** The record version this ciphertext is (an integer >= 0). */
  version: number;
  keyId: string;
}

export interface Envelope extends EnvelopeBinding {
  v: 1;
  /** base64url, 12 bytes */
  nonce: string;
  /** base64url ciphertext */
  ct: string;
  /** base64url, 16-byte GCM tag */
  tag: string;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Domain separation: a future envelope format can never be mistaken for this one. */
const AAD_LABEL = 'clinic-ehr/envelope/v1';

/**
 * Canonical AAD: a JSON array of a label and the five fields in a fixed order. JSON of strings and
 * an integer is unambiguous (quotes and separators are escaped), so no two bindings share an AAD.
 */
export function envelopeAad(b: EnvelopeBinding): Buffer {
  // Byte-identical to JSON.stringify([AAD_LABEL, recordId, patientId, resourceType, version, keyId])
  // (a test pins that), without building the array: this runs once per seal and per open.
  const j = JSON.stringify;
  return Buffer.from(`${AAD_PREFIX}${j(b.recordId)},${j(b.patientId)},${j(b.resourceType)},${j(b.version)},${j(b.keyId)}]`, 'utf8');
}
const AAD_PREFIX = `[${JSON.stringify(AAD_LABEL)},`;

function assertKey(dataKey: Buffer, b: EnvelopeBinding): void {
  if (dataKey.length !== KEY_BYTES) {
    throw new EhrError(ErrorCode.INTEGRITY, 'Patient data key has the wrong length; the record cannot be sealed or opened.', { recordId: b.recordId, keyId: b.keyId });
  }
}

function assertBinding(b: EnvelopeBinding): void {
  const ok = typeof b.recordId === 'string' && b.recordId.length > 0
    && typeof b.patientId === 'string' && b.patientId.length > 0
    && typeof b.resourceType === 'string' && b.resourceType.length > 0
    && typeof b.keyId === 'string' && b.keyId.length > 0
    && Number.isSafeInteger(b.version) && b.version >= 0;
  if (!ok) throw new EhrError(ErrorCode.INVALID, 'Envelope binding is incomplete (record id, patient id, resource type, version and key id are required).');
}

/**
 * Nonces come from a pooled CSPRNG buffer: one randomFillSync per 4096 seals instead of one per
 * seal (the syscall dominates for 1 KB records). Each nonce is still 96 fresh random bits, used once:
 * a used-up pool is replaced by a new one, never refilled, so a nonce handed out (a view into its
 * pool) can never be overwritten into another record's nonce — and no copy or wipe per seal.
 */
const NONCE_POOL_BYTES = NONCE_BYTES * 4096;
let noncePool = Buffer.alloc(0);
let noncePos = 0;
function freshNonce(): Buffer {
  if (noncePos + NONCE_BYTES > noncePool.length) {
    noncePool = randomFillSync(Buffer.allocUnsafeSlow(NONCE_POOL_BYTES));
    noncePos = 0;
  }
  const n = noncePool.subarray(noncePos, noncePos + NONCE_BYTES);
  noncePos += NONCE_BYTES;
  return n;
}

export function seal(binding: EnvelopeBinding, plaintext: Uint8Array, dataKey: Buffer): Envelope {
  assertBinding(binding);
  assertKey(dataKey, binding);
  const nonce = freshNonce();
  const cipher = createCipheriv(ALGORITHM, dataKey, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(envelopeAad(binding));
  const ct = run(cipher, plaintext);
  return {
    v: 1,
    recordId: binding.recordId,
    patientId: binding.patientId,
    resourceType: binding.resourceType,
    version: binding.version,
    keyId: binding.keyId,
    nonce: nonce.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

function integrityError(envelope: Partial<EnvelopeBinding>): EhrError {
  const detail: Record<string, string> = {};
  if (typeof envelope.recordId === 'string') detail.recordId = envelope.recordId;
  if (typeof envelope.keyId === 'string') detail.keyId = envelope.keyId;
  return new EhrError(ErrorCode.INTEGRITY, 'Record envelope failed its integrity check (tampered, moved to another record, or wrong key); it was not opened.', detail);
}

/**
 * base64url decode that refuses anything but base64url: Node's decoder silently skips foreign
 * characters, which would shorten the output, so the decoded length is checked against the
 * text's length (cheaper than a regex over a 1 KB ciphertext, which the hot path cannot afford).
 */
function strictB64url(s: unknown): Buffer | null {
  if (typeof s !== 'string' || s.length % 4 === 1) return null;
  const b = Buffer.from(s, 'base64url');
  return b.length === Math.floor((s.length * 3) / 4) && !s.includes('=') ? b : null;
}

/** Update + final without a copy when final() has nothing left (always, for GCM). */
function run(c: { update(d: Uint8Array): Buffer; final(): Buffer }, data: Uint8Array): Buffer {
  const head = c.update(data);
  const tail = c.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

export function open(envelope: Envelope, dataKey: Buffer): Buffer {
  if (!envelope || typeof envelope !== 'object' || envelope.v !== 1) throw integrityError({});
  const binding: EnvelopeBinding = {
    recordId: envelope.recordId,
    patientId: envelope.patientId,
    resourceType: envelope.resourceType,
    version: envelope.version,
    keyId: envelope.keyId,
  };
  try {
    assertBinding(binding);
  } catch {
    throw integrityError(envelope);
  }
  if (dataKey.length !== KEY_BYTES) throw integrityError(envelope);
  const nonce = strictB64url(envelope.nonce);
  const ct = strictB64url(envelope.ct);
  const tag = strictB64url(envelope.tag);
  if (!nonce || nonce.length !== NONCE_BYTES || !ct || !tag || tag.length !== TAG_BYTES) throw integrityError(envelope);
  try {
    const decipher = createDecipheriv(ALGORITHM, dataKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(envelopeAad(binding));
    decipher.setAuthTag(tag);
    return run(decipher, ct);
  } catch {
    // Node's message ("Unsupported state or unable to authenticate data") says nothing useful; ours names ids.
    throw integrityError(envelope);
  }
}

/** Convenience for callers sealing JSON (FHIR resources). */
export function sealJson(binding: EnvelopeBinding, value: unknown, dataKey: Buffer): Envelope {
  return seal(binding, Buffer.from(JSON.stringify(value), 'utf8'), dataKey);
}

export function openJson<T = unknown>(envelope: Envelope, dataKey: Buffer): T {
  const bytes = open(envelope, dataKey);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw integrityError(envelope);
  }
}
