/**
 * Frame-level end-to-end encryption of a visit's media (docs/telemedicine.md): every encoded audio
 * and video frame is sealed with AES-256-GCM under the per-visit media key before the packetizer
 * sees it, and opened after the depacketizer, so the media stays sealed even if DTLS-SRTP were
 * terminated by a relay (TURN, a future SFU).
 *
 * Frame layout: [codec header, clear][ciphertext + 16-byte tag][12-byte IV]. The clear header is
 * what an SFU needs to route and pick key frames (VP8's uncompressed data chunk: 10 bytes on a key
 * frame, 3 on a delta frame; Opus TOC: 1 byte). It is authenticated as AAD, so it cannot be altered.
 *
 * IV (96 bits) = direction byte (0 = host, 1 = patient) || 7-byte random salt chosen per sealer ||
 * 32-bit frame counter. Both peers share the key, so the direction byte keeps their IV spaces apart;
 * the salt keeps the several sealers of one peer (audio, video, a renegotiated sender) apart; the
 * counter never wraps (the sealer refuses to seal past 2^32 - 1 frames, ~1.6 years at 80 fps).
 *
 * Pure (WebCrypto only): runs in the renderer, the patient page, and under Node for tests.
 */

export type Direction = 'host' | 'patient';
export type MediaKind = 'audio' | 'video';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 7;
const MAX_COUNTER = 0xffff_ffff;
const DIRECTION_BYTE: Record<Direction, number> = { host: 0, patient: 1 };

/** Counters of one peer's transforms, reported with the transport (visits.transport). */
export interface FrameCounters {
  framesSealed: number;
  framesOpened: number;
  /** Frames that failed to open (wrong key, tampered, truncated) and were dropped. */
  framesDropped: number;
}

export function newCounters(): FrameCounters {
  return { framesSealed: 0, framesOpened: 0, framesDropped: 0 };
}

/** base64url (no padding) → bytes; throws on anything that is not a 32-byte key. */
export function decodeMediaKey(b64u: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(b64u)) throw new Error('the media key is not 32 bytes of base64url');
  const b64 = b64u.replace(/-/g, '+').replace(/_/g, '/') + '=';
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (out.length !== 32) throw new Error('the media key is not 32 bytes of base64url');
  return out;
}

/** A non-extractable AES-GCM key: script can use it but never read it back. */
export async function importMediaKey(b64u: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', decodeMediaKey(b64u), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/**
 * Bytes left in clear at the start of a frame. VP8's key-frame bit is the lowest bit of the first
 * byte (0 = key frame, RFC 6386 §9.1), so the receiver reads the same length the sender used
 * without any side channel.
 */
export function clearHeaderBytes(kind: MediaKind, firstByte: number | undefined): number {
  if (kind === 'audio') return 1;
  if (firstByte === undefined) return 0;
  return (firstByte & 0x01) === 0 ? 10 : 3;
}

/** One sending transform: owns its salt and counter, so its IVs never repeat. */
export class FrameSealer {
  private counter = 0;
  private readonly prefix: Uint8Array;

  constructor(
    private readonly key: CryptoKey,
    direction: Direction,
    private readonly counters: FrameCounters,
    salt: Uint8Array = crypto.getRandomValues(new Uint8Array(SALT_BYTES)),
  ) {
    if (salt.length !== SALT_BYTES) throw new Error('salt must be 7 bytes');
    this.prefix = new Uint8Array(1 + SALT_BYTES);
    this.prefix[0] = DIRECTION_BYTE[direction];
    this.prefix.set(salt, 1);
  }

  /** The next IV; throws once the counter is exhausted rather than ever reuse one. */
  nextIv(): Uint8Array<ArrayBuffer> {
    if (this.counter > MAX_COUNTER) throw new Error('frame counter exhausted');
    const iv = new Uint8Array(IV_BYTES);
    iv.set(this.prefix, 0);
    new DataView(iv.buffer).setUint32(1 + SALT_BYTES, this.counter);
    this.counter++;
    return iv;
  }

  async seal(kind: MediaKind, frame: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const h = Math.min(clearHeaderBytes(kind, frame[0]), frame.length);
    const header = frame.slice(0, h);
    const iv = this.nextIv();
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header, tagLength: TAG_BYTES * 8 }, this.key, frame.slice(h)),
    );
    const out = new Uint8Array(h + sealed.length + IV_BYTES);
    out.set(header, 0);
    out.set(sealed, h);
    out.set(iv, h + sealed.length);
    this.counters.framesSealed++;
    return out;
  }
}

/** One receiving transform. A frame that does not open is dropped (null) and counted. */
export class FrameOpener {
  constructor(
    private readonly key: CryptoKey,
    private readonly counters: FrameCounters,
  ) {}

  async open(kind: MediaKind, frame: Uint8Array): Promise<Uint8Array<ArrayBuffer> | null> {
    const h = clearHeaderBytes(kind, frame[0]);
    if (frame.length < h + TAG_BYTES + IV_BYTES) {
      this.counters.framesDropped++;
      return null;
    }
    const header = frame.slice(0, h);
    const iv = frame.slice(frame.length - IV_BYTES);
    try {
      const plain = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: header, tagLength: TAG_BYTES * 8 },
          this.key,
          frame.slice(h, frame.length - IV_BYTES),
        ),
      );
      const out = new Uint8Array(h + plain.length);
      out.set(header, 0);
      out.set(plain, h);
      this.counters.framesOpened++;
      return out;
    } catch {
      this.counters.framesDropped++;
      return null;
    }
  }
}
