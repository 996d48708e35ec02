/**
 * The per-device audit hash chain: link, sign, verify. Used by the vault when it appends an entry
 * and by the server when it ingests a batch, so both sides agree on every byte.
 *
 *   hash      = sha256(prevHash ‖ canonicalJson(entry without hash and signature))   (hex)
 *   signature = Ed25519(device private key, hash bytes)                              (base64url)
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../audit/canonical';
import { GENESIS_HASH, type AuditEntry, type AuditEntryInput, type ChainVerdict } from '../audit/types';

export { GENESIS_HASH };

/** The previous link a new entry hangs from; null for a device's first entry. */
export interface ChainHead {
  seq: number;
  hash: string;
}

type Unsigned = Omit<AuditEntry, 'hash' | 'signature'>;

export function hashEntry(entry: Unsigned | AuditEntry): string {
  const { hash: _h, signature: _s, ...body } = entry as AuditEntry;
  return createHash('sha256').update(body.prevHash, 'utf8').update(canonicalJson(body), 'utf8').digest('hex');
}

/** Builds the next entry of the chain: assigns seq, prevHash, hash and signature. */
export function linkEntry(head: ChainHead | null, deviceId: string, input: AuditEntryInput, privateKey: KeyObject): AuditEntry {
  const body: Unsigned = {
    ...input,
    at: input.at ?? new Date().toISOString(),
    deviceId,
    seq: head ? head.seq + 1 : 1,
    prevHash: head ? head.hash : GENESIS_HASH,
  };
  const hash = hashEntry(body);
  const signature = sign(null, Buffer.from(hash, 'hex'), privateKey).toString('base64url');
  return { ...body, hash, signature };
}

/** Accepts a KeyObject, a PEM (SPKI) string, or the raw 32-byte key (bytes or base64url). */
export function toDevicePublicKey(key: KeyObject | Uint8Array | string): KeyObject {
  if (typeof key === 'string' && key.startsWith('-----BEGIN')) return createPublicKey(key);
  if (typeof key === 'string' || key instanceof Uint8Array) {
    const x = typeof key === 'string' ? key : Buffer.from(key).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  }
  return key;
}

export interface VerifyOptions {
  /** Where the batch must continue from (the server's last accepted link); default: the genesis. */
  after?: ChainHead | null;
  /** Every entry must carry this device id. */
  deviceId?: string;
}

/**
 * Checks an ordered run of one device's entries and reports the FIRST problem:
 * - reorder: a sequence number not above the previous one (entries swapped or replayed);
 * - gap: a sequence number skipped;
 * - fork: the right sequence number but hanging from a different previous hash;
 * - edit: the stored hash does not match the entry's content;
 * - signature: the hash is not signed by this device's key;
 * - device: an entry from another device in this device's chain.
 */
export function verifyChain(
  entries: readonly AuditEntry[],
  devicePublicKey: KeyObject | Uint8Array | string,
  options: VerifyOptions = {},
): ChainVerdict {
  const publicKey = toDevicePublicKey(devicePublicKey);
  const start = options.after ?? null;
  let prevSeq = start ? start.seq : 0;
  let prevHash = start ? start.hash : GENESIS_HASH;
  const deviceId = options.deviceId ?? entries[0]?.deviceId;
  for (let index = 0; index < entries.length; index++) {
    const e = entries[index] as AuditEntry;
    const fail = (problem: Exclude<ChainVerdict, { ok: true }>['problem']): ChainVerdict => ({ ok: false, problem, index, seq: e.seq });
    if (e.deviceId !== deviceId) return fail('device');
    if (!Number.isInteger(e.seq) || e.seq <= prevSeq) return fail('reorder');
    if (e.seq > prevSeq + 1) return fail('gap');
    if (e.prevHash !== prevHash) return fail('fork');
    if (hashEntry(e) !== e.hash) return fail('edit');
    let signed = false;
    try {
      signed = verify(null, Buffer.from(e.hash, 'hex'), publicKey, Buffer.from(e.signature, 'base64url'));
    } catch {
      signed = false;
    }
    if (!signed) return fail('signature');
    prevSeq = e.seq;
    prevHash = e.hash;
  }
  return { ok: true, count: entries.length, lastSeq: prevSeq, lastHash: prevHash };
}
