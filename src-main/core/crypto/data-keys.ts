/**
 * Patient data keys on the workstation.
 *
 * - Keys come from the server's key service (unwrap, allowed callers only) and are cached in the
 *   vault's `dataKeys` (encrypted by SQLCipher) for the patients in this workstation's scope.
 * - A patient created here gets a fresh random key, cached at once (the chart works offline) and
 *   wrapped on the server before any envelope sealed under it is pushed (`wrapPending`).
 * - Keys are dropped when access ends: care-team change (`retainOnly`), break-glass grant expiry
 *   (cached with `expiresAt`; the vault never returns an expired key and `dropExpired` purges
 *   them), device revoked (`dropAll`). With the keys goes the patient's cached chart
 *   (`vault.purgePatient`, same transaction): patients row, search tokens, resources. Drafts and
 *   outbox rows (unsent work) stay, the rows held; audit entries stay.
 *
 * The newest key of a patient seals; any key of the patient opens (an envelope names its key id).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { Vault, DataKey } from '../vault';
import type { ServerClient } from '../sync/server-client';
import { UNWRAP_BATCH_MAX } from '../../../src-shared/sync/keys';

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

/** How openingKeys names a (patient, key) pair. */
export const dataKeyMemoKey = (k: { patientId: string; keyId: string }): string => `${k.patientId}\u0000${k.keyId}`;

export interface DataKeyService {
  /** The key that seals new versions for the patient: cached, else fetched from the key service. */
  sealingKey(patientId: string): Promise<DataKey>;
  /** The key an envelope names: cached, else fetched from the key service. */
  openingKey(patientId: string, keyId: string): Promise<DataKey>;
  /**
   * Many envelopes' keys at once (initial sync): cached ones at once, the rest in batched unwraps,
   * all cached. Per (patient, key): the key, or the error that key's openingKey would have thrown
   * (refused or gone). A transient failure (network) rejects the whole call.
   */
  openingKeys?(wanted: readonly { patientId: string; keyId: string }[]): Promise<Map<string, DataKey | EhrError>>;
  /** Cached only (never the network). */
  cachedKey(patientId: string, keyId?: string): DataKey | null;
  /** A fresh key for a patient created on this workstation; wrapped on the server by `wrapPending`. */
  createForNewPatient(patientId: string): DataKey;
  /** Wraps locally created keys on the server; returns how many. Errors propagate (retry later). */
  wrapPending(patientIds?: ReadonlySet<string>): Promise<number>;
  hasPendingWrap(patientId: string): boolean;
  /** Patients whose keys are cached here. */
  cachedPatientIds(): string[];
  /**
   * Drops keys and cached chart of every patient not in `allowed` (care-team change), except a
   * patient whose key was created here and not yet wrapped; returns the patients dropped.
   * `keepChart`: patients whose keys go but whose cached chart stays (an offline break-glass grant
   * the session core still honours: the clinician keeps reading it).
   */
  retainOnly(allowed: ReadonlySet<string>, keepChart?: ReadonlySet<string>): string[];
  /** Purges keys whose break-glass grant has expired (and the chart of a patient left without a key); returns how many keys. */
  dropExpired(): number;
  /** Drops the patient's keys and cached chart. */
  dropPatient(patientId: string): void;
  /** Device revoked: forget every key and every cached chart; returns how many keys. */
  dropAll(): number;
  /** Caches a patient's keys for a break-glass grant, until the grant expires. */
  fetchForGrant(patientId: string, expiresAt: string): Promise<void>;
}

export interface DataKeyServiceOptions {
  vault: Pick<Vault, 'dataKeys' | 'kv' | 'transaction' | 'purgePatient' | 'cachedPatientIds'>;
  client: Pick<ServerClient, 'unwrapKeys' | 'wrapKey'> & Partial<Pick<ServerClient, 'unwrapKeysBatch'>>;
  now?: () => Date;
}

export function createDataKeyService(opts: DataKeyServiceOptions): DataKeyService {
  const { vault, client } = opts;
  const now = opts.now ?? (() => new Date());

  /** Access to the patient ended: keys and cached chart go together (one transaction). */
  function dropPatientData(patientId: string, keepChart = false): void {
    vault.transaction(() => {
      vault.dataKeys.deleteForPatient(patientId);
      if (!keepChart) vault.purgePatient(patientId);
    });
  }

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
    async openingKeys(wanted) {
      const out = new Map<string, DataKey | EhrError>();
      const missing: { patientId: string; keyId: string }[] = [];
      for (const w of wanted) {
        const id = dataKeyMemoKey(w);
        if (out.has(id)) continue;
        const cached = vault.dataKeys.get(w.patientId, w.keyId, now());
        if (cached) out.set(id, cached);
        else {
          out.set(id, new DataKeyUnavailableError(w.patientId, w.keyId));
          missing.push(w);
        }
      }
      if (missing.length && !client.unwrapKeysBatch) {
        for (const w of missing) {
          try {
            out.set(dataKeyMemoKey(w), await service.openingKey(w.patientId, w.keyId));
          } catch (e) {
            if (!(e instanceof EhrError) || e.code !== ErrorCode.FORBIDDEN && e.code !== ErrorCode.NOT_FOUND) throw e;
            out.set(dataKeyMemoKey(w), e);
          }
        }
        return out;
      }
      for (let i = 0; i < missing.length; i += UNWRAP_BATCH_MAX) {
        const res = await client.unwrapKeysBatch!({ keys: missing.slice(i, i + UNWRAP_BATCH_MAX) });
        const fetched = res.keys.map((k) => ({ patientId: k.patientId, keyId: k.keyId, key: Buffer.from(k.dataKey, 'base64url'), expiresAt: null }));
        vault.transaction(() => {
          for (const k of fetched) vault.dataKeys.put(k);
        });
        for (const k of fetched) out.set(dataKeyMemoKey(k), k);
        for (const r of res.refused) {
          out.set(dataKeyMemoKey(r), r.code === 'FORBIDDEN'
            ? new EhrError(ErrorCode.FORBIDDEN, 'This patient is outside your care teams; use break-glass if clinically needed.', { patientId: r.patientId })
            : new DataKeyUnavailableError(r.patientId, r.keyId));
        }
      }
      return out;
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
    cachedPatientIds: () => vault.dataKeys.patientIds(),
    retainOnly(allowed, keepChart) {
      const dropped: string[] = [];
      // Patients with keys, and patients with a cached chart but no key (e.g. left by an older version).
      const cached = new Set([...vault.dataKeys.patientIds(), ...vault.cachedPatientIds()]);
      for (const patientId of cached) {
        // A key created here and not yet wrapped is its only copy: dropping it would lose the chart.
        if (!allowed.has(patientId) && !service.hasPendingWrap(patientId)) {
          const keep = keepChart?.has(patientId) ?? false;
          if (keep && vault.dataKeys.count(patientId) === 0) continue; // nothing left to drop
          dropPatientData(patientId, keep);
          dropped.push(patientId);
        }
      }
      return dropped;
    },
    dropExpired() {
      const at = now();
      const expired = vault.dataKeys.expiredPatientIds(at);
      if (expired.length === 0) return 0;
      return vault.transaction(() => {
        const n = vault.dataKeys.purgeExpired(at);
        // A grant ended: the chart goes with the last key (a patient still holding a live key keeps it).
        for (const patientId of expired) {
          if (vault.dataKeys.count(patientId) === 0) vault.purgePatient(patientId);
        }
        return n;
      });
    },
    dropPatient(patientId) {
      dropPatientData(patientId);
    },
    dropAll() {
      const n = vault.dataKeys.count();
      vault.transaction(() => {
        for (const patientId of new Set([...vault.dataKeys.patientIds(), ...vault.cachedPatientIds()])) dropPatientData(patientId);
        setPending([]);
      });
      return n;
    },
    async fetchForGrant(patientId, expiresAt) {
      // Already cached for this grant: no unwrap (each one is a key access the server audits and rate-monitors).
      if (vault.dataKeys.get(patientId, undefined, now())?.expiresAt === expiresAt) return;
      await fetchFromServer(patientId, undefined, expiresAt);
    },
  };
  return service;
}
