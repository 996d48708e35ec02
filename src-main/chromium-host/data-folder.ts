/**
 * Where the development host keeps a workstation: one data folder (EHR_DATA_DIR, default .data)
 * holds the vault, the enrollment marker and, where the session has no keychain, the development
 * keyring (scripts/dev-keyring.mjs); the sync server's database sits beside them (npm start).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

export interface DataFolder {
  root: string;
  vaultDir: string;
  enrollmentMarker: string;
  /** The keychain service name of this folder's vault key. */
  keychainService: string;
}

/**
 * One keychain entry set per data folder: two folders (a test's and yours) never share a vault
 * key, and a folder copied from another machine finds no key here (and says so).
 */
export function dataFolder(dir: string): DataFolder {
  const root = path.resolve(dir);
  return {
    root,
    vaultDir: path.join(root, 'workstation'),
    enrollmentMarker: path.join(root, 'workstation-enrollment.json'),
    keychainService: `clinic-ehr-dev-host-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`,
  };
}
