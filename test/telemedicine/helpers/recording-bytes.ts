/** The recording crash test's chunks: deterministic pseudo-random bytes per (run seed, index), with a canary. */
import { createCipheriv, createHash } from 'node:crypto';

export const RECORDING_PATIENT = 'demo-p-0002';
export const RECORDING_MIME = 'video/webm;codecs=vp9,opus';
export const CHUNK_CANARY = 'CANARY-REC-Quillon-Brask';
/** Just under the core's 512 KiB chunk limit. */
export const CHUNK_SIZE = 500 * 1024;

export function chunkBytes(runSeed: number, index: number): Buffer {
  const key = createHash('sha256').update(`recording-crash:${runSeed}:${index}`).digest();
  const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(CHUNK_SIZE));
  const canary = Buffer.from(`${CHUNK_CANARY} #${index}`);
  canary.copy(stream, 0);
  canary.copy(stream, CHUNK_SIZE >> 1);
  return stream;
}
