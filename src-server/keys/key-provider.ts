/**
 * The organisation key-encryption key (KEK) behind one interface, so an HSM or a cloud KMS can
 * replace the default file provider without touching callers. The KEK never enters the database:
 * callers get wrapped strings ("<kekId>.<nonce>.<ct>.<tag>", AES-256-GCM with a purpose-bound AAD).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EhrError, ErrorCode } from '../../src-shared/errors';

export interface KeyProvider {
  /** Id of the KEK new wraps use. */
  currentKekId(): string;
  wrap(secret: Buffer, aad: string): Promise<string>;
  unwrap(wrapped: string, aad: string): Promise<Buffer>;
  /** Creates a new current KEK; older ones stay able to unwrap until retired. */
  rotate(): Promise<string>;
  /** Destroys an old KEK once nothing is wrapped under it any more. */
  retire(kekId: string): Promise<void>;
}

const b64u = (b: Buffer): string => b.toString('base64url');

/** The wrap format shared by every provider that does the AES itself. */
export function wrapWith(kekId: string, kek: Buffer, secret: Buffer, aad: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(Buffer.from(`${kekId}|${aad}`));
  const ct = Buffer.concat([cipher.update(secret), cipher.final()]);
  return [kekId, b64u(nonce), b64u(ct), b64u(cipher.getAuthTag())].join('.');
}

export function kekIdOf(wrapped: string): string {
  return wrapped.split('.')[0] ?? '';
}

export function unwrapWith(kek: Buffer, wrapped: string, aad: string): Buffer {
  const [kekId, nonce, ct, tag] = wrapped.split('.');
  if (!kekId || !nonce || ct === undefined || !tag) throw new EhrError(ErrorCode.INTEGRITY, 'Wrapped key is malformed.');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(`${kekId}|${aad}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]);
  } catch {
    throw new EhrError(ErrorCode.INTEGRITY, 'Wrapped key failed its integrity check.', { kekId });
  }
}

/**
 * Default provider: 32-byte KEK files `kek-<id>.key` (mode 0600) in their own directory (0700),
 * apart from the database, plus a `current` file naming the active one. Readable only by the
 * server's OS user; back it up separately from the database.
 */
export class FileKeyProvider implements KeyProvider {
  private readonly keks = new Map<string, Buffer>();
  private current = '';

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.load();
    if (!this.current) this.create();
  }

  private load(): void {
    this.keks.clear();
    for (const name of readdirSync(this.dir)) {
      const m = /^kek-([A-Za-z0-9_-]+)\.key$/.exec(name);
      if (!m?.[1]) continue;
      const path = join(this.dir, name);
      if ((statSync(path).mode & 0o077) !== 0) {
        throw new EhrError(ErrorCode.INTEGRITY, 'Key file permissions are too open; set them to 0600.', { file: name });
      }
      const key = readFileSync(path);
      if (key.length !== 32) throw new EhrError(ErrorCode.INTEGRITY, 'Key file must hold exactly 32 bytes.', { file: name });
      this.keks.set(m[1], key);
    }
    const pointer = join(this.dir, 'current');
    this.current = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : '';
    if (this.current && !this.keks.has(this.current)) throw new EhrError(ErrorCode.INTEGRITY, 'The current key file is missing.', { kekId: this.current });
  }

  private create(): string {
    const id = `k${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const key = randomBytes(32);
    writeFileSync(join(this.dir, `kek-${id}.key`), key, { mode: 0o600, flag: 'wx' });
    // Atomic pointer switch: a crash leaves either the old or the new current, never half.
    const tmp = join(this.dir, 'current.tmp');
    writeFileSync(tmp, id, { mode: 0o600 });
    renameSync(tmp, join(this.dir, 'current'));
    this.keks.set(id, key);
    this.current = id;
    return id;
  }

  /** Another instance may have rotated: re-read the directory before giving up on an id. */
  private kek(id: string): Buffer {
    if (!this.keks.has(id)) this.load();
    const key = this.keks.get(id);
    if (!key) throw new EhrError(ErrorCode.INTEGRITY, 'No key-encryption key with this id.', { kekId: id });
    return key;
  }

  currentKekId(): string {
    return this.current;
  }
  async wrap(secret: Buffer, aad: string): Promise<string> {
    // Another instance sharing this directory may have rotated: always wrap under the current KEK.
    const pointer = readFileSync(join(this.dir, 'current'), 'utf8').trim();
    if (pointer !== this.current) this.load();
    return wrapWith(this.current, this.kek(this.current), secret, aad);
  }
  async unwrap(wrapped: string, aad: string): Promise<Buffer> {
    return unwrapWith(this.kek(kekIdOf(wrapped)), wrapped, aad);
  }
  async rotate(): Promise<string> {
    return this.create();
  }
  async retire(kekId: string): Promise<void> {
    if (kekId === this.current) throw new EhrError(ErrorCode.INVALID, 'The current key-encryption key cannot be retired.');
    rmSync(join(this.dir, `kek-${kekId}.key`), { force: true });
    this.keks.delete(kekId);
  }
}
