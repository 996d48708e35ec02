/**
 * Patient data keys on the workstation.
 *
 * - Keys come from the server's key service (unwrap, allowed callers only) and are cached in the
 *   vault's `dataKeys` (encrypted by SQLCipher) for the patients in this workstation's scope.
 * - A patient created here gets a fresh random key, cached at once (the chart works offline) and
 *   wrapped on the server before any envelope sealed under it is pushed (`wrapPending`).
 * - Keys are dropped when access ends: care-team change (`retainOnly`), break-glass grant expiry
 *   (cached with `expiresAt`; the vault never returns an expired key and `dropExpired` purges
 *   them), device revoked (`dropAll`).
 *
 * The newest key of a patient seals; any key of the patient opens (an envelope names its key id).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { Vault, DataKey } from '../vault';
import type { ServerClient } from '../sync/server-client';

export type { DataKey };

/** kv key: locally created keys the server has not wrapped yet (ids only). */
const PENDING_WRAPS = 'sync.keys.pendingWraps';

type PendingWrap = { patientId: string; keyId: string };

export class DataKeyUnavailableError extends EhrError {
  override readonly name = 'DataKeyUnavailableError';
  constructor(patientId: string, keyId: string | null) {
    super(ErrorCode.FORBIDDEN, 'No data key for this patient is available on this workstation (access ended or was never granted).', {
      reason: 'NO_DATA_KEY', patientId, keyId,
    });
  }
}

export interface DataKeyService {
  /** The key that seals new versions for the patient: cached, else fetched from the key service. */
  sealingKey(patientId: string): Promise<DataKey>;
  /** The key an envelope names: cached, else fetched from the key service. */
  openingKey(patientId: string, keyId: string): Promise<DataKey>;
  /** Cached only (never the network). */
  cachedKey(patientId: string, keyId?: string): DataKey | null;
  /** A fresh key for a patient created on this workstation; wrapped on the server by `wrapPending`. */
  createForNewPatient(patientId: string): DataKey;
  /** Wraps locally created keys on the server; returns how many. Errors propagate (retry later). */
  wrapPending(patientIds?: ReadonlySet<string>): Promise<number>;
  hasPendingWrap(patientId: string): boolean;
  /** Patients whose keys are cached here. */
  cachedPatientIds(): string[];
  /** Drops keys of every patient not in `allowed` (care-team change); returns the patients dropped. */
  retainOnly(allowed: ReadonlySet<string>): string[];
  /** Purges keys whose break-glass grant has expired; returns how many keys. */
  dropExpired(): number;
  dropPatient(patientId: string): void;
  /** Device revoked: forget every key; returns how many. */
  dropAll(): number;
  /** Caches a patient's keys for a break-glass grant, until the grant expires. */
  fetchForGrant(patientId: string, expiresAt: string): Promise<void>;
}

export interface DataKeyServiceOptions {
  vault: Pick<Vault, 'dataKeys' | 'kv' | 'db' | 'transaction'>;
  client: Pick<ServerClient, 'unwrapKeys' | 'wrapKey'>;
  now?: () => Date;
}

export function createDataKeyService(opts: DataKeyServiceOptions): DataKeyService {
  const { vault, client } = opts;
  const now = opts.now ?? (() => new Date());
  // Read-only query on the vault's data_keys table: the repository has no "which patients" listing yet.
  const patientIdsStmt = vault.db.prepare<[], { patient_id: string }>('SELECT DISTINCT patient_id FROM data_keys');
  const countStmt = vault.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM data_keys');

  const pending = (): PendingWrap[] => vault.kv.getJson<PendingWrap[]>(PENDING_WRAPS) ?? [];
  const setPending = (list: PendingWrap[]): void => vault.kv.setJson(PENDING_WRAPS, list);

  async function fetchFromServer(patientId: string, keyId: string | undefined, expiresAt: string | null): Promise<DataKey[]> {
    const res = await client.unwrapKeys(keyId ? { patientId, keyId } : { patientId });
    // Oldest first, so the newest key is also the newest cached row (the vault seals with the newest).
    const fetched = [...res.keys]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((k) => ({ patientId, keyId: k.keyId, key: Buffer.from(k.dataKey, 'base64url'), expiresAt }));
    vault.transaction(() => {
      for (const k of fetched) vault.dataKeys.put(k);
    });
    return fetched;
  }

  const service: DataKeyService = {
    async sealingKey(patientId) {
      const cached = vault.dataKeys.get(patientId, undefined, now());
      if (cached) return cached;
      const fetched = (await fetchFromServer(patientId, undefined, null)).at(-1);
      if (!fetched) throw new DataKeyUnavailableError(patientId, null);
      return fetched;
    },
    async openingKey(patientId, keyId) {
      const cached = vault.dataKeys.get(patientId, keyId, now());
      if (cached) return cached;
      const fetched = (await fetchFromServer(patientId, keyId, null)).find((k) => k.keyId === keyId);
      if (!fetched) throw new DataKeyUnavailableError(patientId, keyId);
      return fetched;
    },
    cachedKey: (patientId, keyId) => vault.dataKeys.get(patientId, keyId, now()),
    createForNewPatient(patientId) {
      const key: DataKey = { patientId, keyId: `dk-${randomUUID()}`, key: randomBytes(32), expiresAt: null };
      vault.transaction(() => {
        vault.dataKeys.put(key);
        setPending([...pending(), { patientId, keyId: key.keyId }]);
      });
      return key;
    },
    async wrapPending(patientIds) {
      let wrapped = 0;
      for (const p of pending()) {
        if (patientIds && !patientIds.has(p.patientId)) continue;
        const key = vault.dataKeys.get(p.patientId, p.keyId, now());
        // Idempotent on the server for the same (keyId, key): a retry after a crash is harmless.
        if (key) await client.wrapKey({ patientId: p.patientId, keyId: p.keyId, dataKey: key.key.toString('base64url') });
        setPending(pending().filter((q) => q.keyId !== p.keyId));
        wrapped++;
      }
      return wrapped;
    },
    hasPendingWrap: (patientId) => pending().some((p) => p.patientId === patientId),
    cachedPatientIds: () => patientIdsStmt.all().map((r) => r.patient_id),
    retainOnly(allowed) {
      const dropped: string[] = [];
      for (const patientId of service.cachedPatientIds()) {
        // A key created here and not yet wrapped is its only copy: dropping it would lose the chart.
        if (!allowed.has(patientId) && !service.hasPendingWrap(patientId)) {
          vault.dataKeys.deleteForPatient(patientId);
          dropped.push(patientId);
        }
      }
      return dropped;
    },
    dropExpired: () => vault.dataKeys.purgeExpired(now()),
    dropPatient(patientId) {
      vault.dataKeys.deleteForPatient(patientId);
    },
    dropAll() {
      const n = countStmt.get()?.n ?? 0;
      vault.transaction(() => {
        for (const patientId of service.cachedPatientIds()) vault.dataKeys.deleteForPatient(patientId);
        setPending([]);
      });
      return n;
    },
    async fetchForGrant(patientId, expiresAt) {
      await fetchFromServer(patientId, undefined, expiresAt);
    },
  };
  return service;
}
