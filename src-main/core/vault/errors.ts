/**
 * Every way the vault can fail to open or write, as a named error with a distinct `detail.reason`
 * and an actionable, PHI-free message. SQLite's own messages are never forwarded: they can quote
 * SQL or values. The classification is in docs/vault.md ("Failure modes").
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';

export type VaultFailure =
  | 'WRONG_KEY'
  | 'NOT_A_DATABASE'
  | 'NOT_ENCRYPTED'
  | 'CORRUPT'
  | 'READ_ONLY'
  | 'DISK_FULL'
  | 'IN_USE'
  | 'CLOSED'
  | 'REKEY_FAILED'
  | 'SCHEMA_TOO_NEW';

const MESSAGES: Record<VaultFailure, string> = {
  WRONG_KEY: 'The workstation vault cannot be opened with the key in the keychain. Nothing was changed; contact IT.',
  NOT_A_DATABASE: 'The workstation vault file is not a vault database. Nothing was changed; contact IT to restore it from backup.',
  NOT_ENCRYPTED: 'The workstation vault file is an unencrypted database and was refused. Nothing was changed; contact IT.',
  CORRUPT: 'The workstation vault file is damaged (truncated or altered). Nothing was changed; contact IT to restore it.',
  READ_ONLY: 'The workstation vault folder or file is read-only. Nothing was changed; ask IT to restore write access.',
  DISK_FULL: 'The workstation vault could not write to disk (disk full or storage failure). This change was not saved; free disk space and retry.',
  IN_USE: 'The workstation vault is already open in another window or process. Close it and try again.',
  CLOSED: 'The workstation vault is closed.',
  REKEY_FAILED: 'The vault key rotation did not complete. The vault still opens with its previous key; contact IT.',
  SCHEMA_TOO_NEW: 'The workstation vault was written by a newer version of this app. Update the app; nothing was changed.',
};

export class VaultError extends EhrError {
  override readonly name: string = 'VaultError';
  constructor(
    readonly reason: VaultFailure,
    detail: Record<string, string | number | boolean | null> = {},
  ) {
    super(ErrorCode.VAULT_UNAVAILABLE, MESSAGES[reason], { reason, ...detail });
  }
}

export class VaultWrongKeyError extends VaultError {
  override readonly name = 'VaultWrongKeyError';
  constructor() { super('WRONG_KEY'); }
}
export class VaultNotADatabaseError extends VaultError {
  override readonly name = 'VaultNotADatabaseError';
  constructor(plaintext = false) { super(plaintext ? 'NOT_ENCRYPTED' : 'NOT_A_DATABASE'); }
}
export class VaultCorruptError extends VaultError {
  override readonly name = 'VaultCorruptError';
  constructor() { super('CORRUPT'); }
}
export class VaultReadOnlyError extends VaultError {
  override readonly name = 'VaultReadOnlyError';
  constructor() { super('READ_ONLY'); }
}
export class VaultDiskFullError extends VaultError {
  override readonly name = 'VaultDiskFullError';
  constructor() { super('DISK_FULL'); }
}
export class VaultInUseError extends VaultError {
  override readonly name = 'VaultInUseError';
  constructor() { super('IN_USE'); }
}
export class VaultClosedError extends VaultError {
  override readonly name = 'VaultClosedError';
  constructor() { super('CLOSED'); }
}
export class VaultRekeyError extends VaultError {
  override readonly name = 'VaultRekeyError';
  constructor(step: string) { super('REKEY_FAILED', { step }); }
}

/** Invalid input to a repository (a FHIR resource that fails validation, a bad id): ids and paths only. */
export function invalidRecord(what: string, detail: Record<string, string | number | boolean | null> = {}): EhrError {
  return new EhrError(ErrorCode.INVALID, `The ${what} is not valid and was not saved.`, detail);
}

function sqliteCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * Maps an SQLite error raised while writing or reading to a named vault error, or returns null
 * when it is not a storage condition (then the caller rethrows a generic INTERNAL error).
 */
export function classifyStorageError(e: unknown): VaultError | null {
  const code = sqliteCode(e);
  if (!code) return null;
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_TRUNCATE') {
    return new VaultDiskFullError();
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') return new VaultReadOnlyError();
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return new VaultInUseError();
  if (code.startsWith('SQLITE_CORRUPT')) return new VaultCorruptError();
  if (code === 'SQLITE_NOTADB') return new VaultNotADatabaseError();
  return null;
}

/**
 * For errors crossing out of a transaction or repository: SQLite's errors become named vault errors;
 * anything else (an EhrError, a caller's own error thrown to roll back) passes through unchanged.
 */
export function fromStorage(e: unknown): unknown {
  return sqliteCode(e) ? toVaultError(e) : e;
}

/** Rethrows anything from SQLite as a PHI-free EhrError; EhrErrors pass through unchanged. */
export function toVaultError(e: unknown): EhrError {
  if (e instanceof EhrError) return e;
  const classified = classifyStorageError(e);
  if (classified) return classified;
  const code = sqliteCode(e);
  return new EhrError(ErrorCode.INTERNAL, 'The workstation vault failed to complete the operation.', code ? { sqlite: code } : {});
}
