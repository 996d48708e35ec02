/**
 * Named keychain errors. Messages are read by clinicians and IT: they say what is wrong and what
 * to do, and never carry a key, a secret or patient data.
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';

/** The OS keychain cannot be reached or refused the request (no Secret Service, locked, denied). */
export class KeychainUnavailableError extends EhrError {
  override readonly name = 'KeychainUnavailableError';
  constructor(operation: 'get' | 'set' | 'delete') {
    super(
      ErrorCode.KEYCHAIN_UNAVAILABLE,
      'The operating system keychain is unavailable or locked. Unlock or start the keychain and try again; the vault stays closed until then.',
      { reason: 'UNAVAILABLE', operation },
    );
  }
}

/** A vault exists but its key is gone from the keychain: we refuse rather than re-create anything. */
export class VaultKeyMissingError extends EhrError {
  override readonly name = 'VaultKeyMissingError';
  constructor() {
    super(
      ErrorCode.KEYCHAIN_UNAVAILABLE,
      'The key for this workstation vault is missing from the keychain. The vault was left untouched; contact IT to restore the keychain entry.',
      { reason: 'KEY_MISSING' },
    );
  }
}
