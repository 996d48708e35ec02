/**
 * The workstation vault: one SQLCipher database per workstation, opened with the 256-bit key from
 * the OS keychain. See docs/vault.md for the key hierarchy, tables, rekey protocol and failure modes.
 *
 * Repositories are properties of the vault; compose them inside `vault.transaction` for "one write"
 * (resource + outbox row + audit entry). Hold the vault, not a repository: `rekey` reopens the
 * connection and replaces them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateDeviceSigningKey, type DeviceSigningKey } from '../keychain/device-key';
import { VaultKeyMissingError } from '../keychain/errors';
import { KeychainAccount, type KeyStore } from '../keychain/key-store';
import { configure, openKeyed, probe, setNewFilePageSize, type ConnectionOptions, type Db } from './connection';
import { VaultClosedError, VaultCorruptError, VaultReadOnlyError, fromStorage, toVaultError } from './errors';
import { readMeta, writeMeta, keyCheckOf, type VaultCipher } from './meta';
import { guardRepository } from './guard';
import { migrate } from './migrations';
import { openWithAnyCipher, readCandidates, settleKeychain, type Candidate } from './open-key';
import { rekeyVault, type RekeyStep } from './rekey';
import { cachedPatientIds, purgePatientCache, type PatientPurgeReport } from './purge';
import { createAuditRepository } from './repos/audit';
import { createDataKeyRepository } from './repos/data-keys';
import { createDraftRepository } from './repos/drafts';
import { createKvRepository } from './repos/kv';
import { createOutboxRepository } from './repos/outbox';
import { createPatientRepository } from './repos/patients';
import { createRequestRepository } from './repos/requests';
import { createResourceRepository } from './repos/resources';
import { createVerifierRepository } from './repos/verifiers';

export const VAULT_FILE = 'vault.db';
/**
 * The cipher new vaults are created with: AEGIS-256X2 (authenticated, AES-NI/VAES accelerated; chosen with
 * the benchmark figures, docs/vault.md). Vaults created with chacha20 or sqlcipher keep their own.
 */
export const DEFAULT_CIPHER: VaultCipher = 'aegis';

export interface OpenVaultOptions {
  /** Folder holding vault.db and vault.meta.json (created 0700 when missing). */
  dir: string;
  keyStore: KeyStore;
  /** Path to a better_sqlite3.node built for the running ABI (the Electron shell passes its own). */
  nativeBinding?: string;
  /** Page cache in MB (default 64). With aegis a larger cache speeds encrypted and plain reads alike (docs/vault.md). */
  cacheSizeMb?: number;
  /** Cipher for a NEW vault (default aegis, chosen in docs/vault.md); an existing vault keeps its own. */
  cipher?: VaultCipher;
  /** FULL by default: a committed clinical write survives power loss. */
  synchronous?: 'FULL' | 'NORMAL';
}

function buildRepositories(db: Db, device: DeviceSigningKey, deviceId: string) {
  return {
    patients: guardRepository(createPatientRepository(db)),
    resources: guardRepository(createResourceRepository(db)),
    drafts: guardRepository(createDraftRepository(db)),
    outbox: guardRepository(createOutboxRepository(db)),
    audit: guardRepository(createAuditRepository(db, { deviceId, privateKey: device.privateKey, publicKey: device.publicKey })),
    dataKeys: guardRepository(createDataKeyRepository(db)),
    verifiers: guardRepository(createVerifierRepository(db)),
    kv: guardRepository(createKvRepository(db)),
    requests: guardRepository(createRequestRepository(db)),
  };
}
type Repositories = ReturnType<typeof buildRepositories>;

export interface VaultDevice {
  deviceId: string;
  /** Raw Ed25519 public key, base64url (for enrollment). */
  publicKeyRaw: string;
  publicKeyPem: string;
}

export interface Vault extends Repositories {
  readonly db: Db;
  readonly dir: string;
  readonly cipher: VaultCipher;
  readonly device: VaultDevice;
  /** Runs fn in one SQLite transaction (nested calls become savepoints); SQLite errors become vault errors. */
  transaction<T>(fn: () => T): T;
  /**
   * Access to the patient ended here: removes the cached chart (patients row + search tokens, every
   * resource) in one transaction; drafts stay, outbox rows stay held, audit entries stay (purge.ts).
   */
  purgePatient(patientId: string): PatientPurgeReport;
  /** Patients with a patients row or a cached resource (ids only). */
  cachedPatientIds(): string[];
  /** Rotates the workstation key (crash-safe; see rekey.ts). */
  rekey(newKey?: Buffer, onStep?: (step: RekeyStep) => void): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

function assertWritable(dir: string, file: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.R_OK | constants.W_OK);
  } catch {
    throw new VaultReadOnlyError();
  }
}

async function createNewVault(file: string, dir: string, keyStore: KeyStore, current: Buffer | null, cipher: VaultCipher, nativeBinding?: string) {
  // The key is in the keychain before the file exists: a crash can never leave a vault whose key is lost.
  let key = current;
  if (!key) {
    key = randomBytes(32);
    await keyStore.set(KeychainAccount.vaultKey, key);
  }
  await keyStore.delete(KeychainAccount.vaultKeyPending);
  const db = openKeyed(file, key, { cipher, nativeBinding });
  setNewFilePageSize(db);
  probe(db);
  chmodSync(file, 0o600); // encrypted anyway; owner-only as well (SQLite gives the WAL the same mode)
  writeMeta(dir, { format: 1, cipher, keyCheck: keyCheckOf(key) });
  return db;
}

export async function openVault(options: OpenVaultOptions): Promise<Vault> {
  const { dir, keyStore, nativeBinding } = options;
  const file = join(dir, VAULT_FILE);
  assertWritable(dir, file);
  const meta = readMeta(dir);
  const exists = existsSync(file);
  if (!exists && meta) throw new VaultCorruptError(); // the database file vanished; never start over silently
  let cipher: VaultCipher = meta?.cipher ?? options.cipher ?? DEFAULT_CIPHER;
  const connection: ConnectionOptions = {
    cipher,
    ...(nativeBinding ? { nativeBinding } : {}),
    cacheSizeMb: options.cacheSizeMb ?? 64,
    journalMode: 'WAL',
    synchronous: options.synchronous ?? 'FULL',
  };

  const { current, pending } = await readCandidates(keyStore);
  let db: Db;
  if (!exists) {
    db = await createNewVault(file, dir, keyStore, current, cipher, nativeBinding);
  } else {
    const candidates: Candidate[] = [];
    if (current) candidates.push({ account: 'current', key: current });
    if (pending && !(current && pending.equals(current))) candidates.push({ account: 'pending', key: pending });
    if (candidates.length === 0) throw new VaultKeyMissingError();
    const opened = openWithAnyCipher(file, candidates, meta, connection);
    db = opened.db;
    cipher = opened.cipher; // differs from the expected one only when vault.meta.json was missing
    connection.cipher = cipher;
    if (opened.used.account === 'pending' || pending || !meta) {
      try {
        await settleKeychain(keyStore, dir, cipher, opened.used, pending);
      } catch (e) {
        db.close();
        throw e;
      }
    }
  }

  let device: DeviceSigningKey;
  let deviceId: string;
  try {
    configure(db, connection);
    migrate(db);
    device = await loadOrCreateDeviceSigningKey(keyStore);
    const kv = createKvRepository(db);
    const stored = kv.get('device.id');
    deviceId = stored ?? randomUUID();
    if (!stored) kv.set('device.id', deviceId); // only on first run: an open should not cost a commit
  } catch (e) {
    db.close();
    throw toVaultError(e);
  }

  let repos = buildRepositories(db, device, deviceId);
  let closed = false;
  const live = (): Db => {
    if (closed) throw new VaultClosedError();
    return db;
  };

  const vault: Vault = {
    get db() { return live(); },
    dir,
    cipher,
    device: { deviceId, publicKeyRaw: device.publicKeyRaw, publicKeyPem: device.publicKeyPem },
    get patients() { live(); return repos.patients; },
    get resources() { live(); return repos.resources; },
    get drafts() { live(); return repos.drafts; },
    get outbox() { live(); return repos.outbox; },
    get audit() { live(); return repos.audit; },
    get dataKeys() { live(); return repos.dataKeys; },
    get verifiers() { live(); return repos.verifiers; },
    get kv() { live(); return repos.kv; },
    get requests() { live(); return repos.requests; },
    get closed() { return closed; },
    transaction<T>(fn: () => T): T {
      const conn = live();
      try {
        return conn.transaction(fn)();
      } catch (e) {
        throw fromStorage(e);
      }
    },
    purgePatient(patientId: string): PatientPurgeReport {
      return purgePatientCache(vault, patientId);
    },
    cachedPatientIds(): string[] {
      return cachedPatientIds(vault);
    },
    async rekey(newKey?: Buffer, onStep?: (step: RekeyStep) => void): Promise<void> {
      const current = live();
      closed = true; // no reads or writes while the file changes keys
      let failure: unknown = null;
      try {
        db = await rekeyVault(current, { file, dir, keyStore, connection }, newKey, onStep);
      } catch (e) {
        failure = e;
        // rekeyVault keeps the old connection open when nothing was committed; otherwise reopen
        // through the normal path, which finds whichever key now opens the file and settles.
        if (!current.open) db = (await openVault(options).catch((reopen: unknown) => { throw fromStorage(reopen); })).db;
      }
      repos = buildRepositories(db, device, deviceId);
      closed = false;
      if (failure) throw fromStorage(failure);
    },
    close(): void {
      if (closed) return;
      // The newest entries are covered by a signature before the vault rests, not only by hashes.
      try {
        repos.audit.checkpoint();
      } catch {
        // A read-only or full disk must not keep the vault from closing; the next push signs instead.
      }
      closed = true;
      db.close();
    },
  };
  return vault;
}

export { VaultError, VaultWrongKeyError, VaultNotADatabaseError, VaultCorruptError, VaultReadOnlyError, VaultDiskFullError, VaultInUseError,
  VaultClosedError, VaultRekeyError, type VaultFailure } from './errors';
export type { VaultCipher } from './meta';
export type { RekeyStep } from './rekey';
export { SCHEMA_VERSION } from './migrations';
export type { PatientInput, PatientRecord, PatientSearch, PatientRepository } from './repos/patients';
export { patientInputFromFhir } from './repos/patients';
export type { ResourceInput, StoredResource, ResourceStatus, ConflictSide, ResourceRepository, PulledResourceInput, LocalResourceState, ClinicalCursor } from './repos/resources';
export { RESOURCE_STATUSES, quarantinedError } from './repos/resources';
export type { Draft, DraftInput } from './repos/drafts';
export type { OutboxInput, OutboxRow, OutboxOp, OutboxRepository } from './repos/outbox';
export { OUTBOX_HELD_AT, OUTBOX_HELD_FROM } from './repos/outbox';
export { ACCESS_ENDED, ACCESS_HOLD_CODES, type PatientPurgeReport } from './purge';
export type { DataKey } from './repos/data-keys';
export type { Verifier, VerifierInput } from './repos/verifiers';
export type { ApiRequestRecord } from './repos/requests';
