/**
 * Cached patient data keys (unwrapped by the server for an allowed user), inside the encrypted
 * vault so they are never on disk in the clear. Expired keys are not returned and can be purged.
 */
import type { Db } from '../connection';
import { invalidRecord } from '../errors';

export interface DataKey {
  patientId: string;
  keyId: string;
  key: Buffer;
  /** ISO time after which the key must be fetched again; null = no expiry. */
  expiresAt: string | null;
}

interface Row { patient_id: string; key_id: string; key: Buffer; expires_at: string | null }
const toKey = (r: Row): DataKey => ({ patientId: r.patient_id, keyId: r.key_id, key: Buffer.from(r.key), expiresAt: r.expires_at });

export function createDataKeyRepository(db: Db) {
  const put = db.prepare(`INSERT INTO data_keys (patient_id, key_id, key, expires_at, created_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(patient_id, key_id) DO UPDATE SET key = excluded.key, expires_at = excluded.expires_at`);
  const byKeyId = db.prepare<[string, string, string], Row>(
    'SELECT * FROM data_keys WHERE patient_id = ? AND key_id = ? AND (expires_at IS NULL OR expires_at > ?)');
  const latest = db.prepare<[string, string], Row>(
    'SELECT * FROM data_keys WHERE patient_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at DESC, rowid DESC LIMIT 1');
  const delPatient = db.prepare('DELETE FROM data_keys WHERE patient_id = ?');
  const purge = db.prepare('DELETE FROM data_keys WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const patientIds = db.prepare<[], { patient_id: string }>('SELECT DISTINCT patient_id FROM data_keys ORDER BY patient_id');
  const expiredPatientIds = db.prepare<[string], { patient_id: string }>(
    'SELECT DISTINCT patient_id FROM data_keys WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY patient_id');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM data_keys');
  const countPatient = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM data_keys WHERE patient_id = ?');

  return {
    put(k: DataKey): void {
      if (k.key.length !== 32) throw invalidRecord('data key', { patientId: k.patientId, keyId: k.keyId, bytes: k.key.length });
      put.run(k.patientId, k.keyId, k.key, k.expiresAt, new Date().toISOString());
    },
    /** The key with this id, or the newest unexpired key of the patient when keyId is omitted. */
    get(patientId: string, keyId?: string, now: Date = new Date()): DataKey | null {
      const row = keyId ? byKeyId.get(patientId, keyId, now.toISOString()) : latest.get(patientId, now.toISOString());
      return row ? toKey(row) : null;
    },
    deleteForPatient(patientId: string): number {
      return delPatient.run(patientId).changes;
    },
    purgeExpired(now: Date = new Date()): number {
      return purge.run(now.toISOString()).changes;
    },
    /** Patients with at least one cached key (expired or not), sorted. */
    patientIds(): string[] {
      return patientIds.all().map((r) => r.patient_id);
    },
    /** Patients with at least one key expired at `now` (what `purgeExpired` would touch). */
    expiredPatientIds(now: Date = new Date()): string[] {
      return expiredPatientIds.all(now.toISOString()).map((r) => r.patient_id);
    },
    /** Cached keys, expired or not; of one patient when given. */
    count(patientId?: string): number {
      return ((patientId === undefined ? countAll.get() : countPatient.get(patientId)) as { n: number }).n;
    },
  };
}
