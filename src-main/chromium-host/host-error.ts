/**
 * A refusal of the development host: one line for the terminal, never a stack trace. Errors of the
 * core (vault, keychain) are EhrErrors whose messages are PHI-free and say what to do; anything
 * else is named by where it happened only.
 */
import { EhrError } from '../../src-shared/errors';
import { KeychainUnavailableError, VaultKeyMissingError } from '../core/keychain';
import { VaultInUseError, VaultWrongKeyError } from '../core/vault/errors';

export class HostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostError';
  }
}

/** The one line to print for an error raised while opening the workstation. */
export function describeOpenError(e: unknown, dataDir: string): string {
  if (e instanceof KeychainUnavailableError) {
    return 'no keychain: the Secret Service (gnome-keyring) cannot be reached; run `npm start` from a desktop session, or install gnome-keyring and dbus (npm run setup does).';
  }
  if (e instanceof VaultKeyMissingError || e instanceof VaultWrongKeyError) {
    return `the vault in ${dataDir} belongs to another workstation (its key is not in this keychain); move that folder away to start a new workstation, or set EHR_DATA_DIR.`;
  }
  if (e instanceof VaultInUseError) return `the vault in ${dataDir} is open in another process (a second npm start?); stop that one first.`;
  if (e instanceof HostError) return e.message;
  if (e instanceof EhrError) return e.message;
  // Only the kind of error: its text may carry paths or values.
  return `the workstation could not be opened (an unexpected ${e instanceof Error ? e.name : 'error'}).`;
}
