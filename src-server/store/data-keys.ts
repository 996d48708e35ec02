/**
 * data_keys: each patient's data keys, wrapped by the KEK (the key service, keys/) — the server
 * never stores one in the clear. Keyed by (patient, key id); a key id once stored keeps its key.
 */
import type { Sql } from '../db/db';

export interface DataKeyRow {
  patient_id: string;
  key_id: string;
  wrapped: string;
  created_at: Date;
}

/** Stores the wrapped key; its creation time, or null when the key id is already taken (nothing changed). */
export async function insertFirst(sql: Sql, k: { patientId: string; keyId: string; wrapped: string; createdBy: string }): Promise<Date | null> {
  const [row] = await sql.query<{ created_at: Date }>(
    'INSERT INTO data_keys (patient_id, key_id, wrapped, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING created_at',
    [k.patientId, k.keyId, k.wrapped, k.createdBy],
  );
  return row?.created_at ?? null;
}

/** The patient's keys, oldest first; only the one named when keyId is given. */
export async function ofPatient(sql: Sql, patientId: string, keyId?: string): Promise<DataKeyRow[]> {
  return keyId
    ? sql.query<DataKeyRow>('SELECT patient_id, key_id, wrapped, created_at FROM data_keys WHERE patient_id = $1 AND key_id = $2 ORDER BY created_at', [patientId, keyId])
    : sql.query<DataKeyRow>('SELECT patient_id, key_id, wrapped, created_at FROM data_keys WHERE patient_id = $1 ORDER BY created_at', [patientId]);
}

/** The keys named by these (patient, key id) pairs that exist, in one query. */
export async function byPairs(sql: Sql, pairs: readonly { patientId: string; keyId: string }[]): Promise<DataKeyRow[]> {
  if (pairs.length === 0) return [];
  return sql.query<DataKeyRow>(
    `SELECT d.patient_id, d.key_id, d.wrapped, d.created_at FROM data_keys d
       JOIN unnest($1::text[], $2::text[]) AS w(p, k) ON d.patient_id = w.p AND d.key_id = w.k`,
    [pairs.map((k) => k.patientId), pairs.map((k) => k.keyId)],
  );
}

/** Every key, row-locked until the transaction ends (KEK rotation re-wraps them all). */
export async function allForUpdate(sql: Sql): Promise<DataKeyRow[]> {
  return sql.query<DataKeyRow>('SELECT patient_id, key_id, wrapped, created_at FROM data_keys FOR UPDATE');
}

export async function setWrapped(sql: Sql, patientId: string, keyId: string, wrapped: string): Promise<void> {
  await sql.query('UPDATE data_keys SET wrapped = $3 WHERE patient_id = $1 AND key_id = $2', [patientId, keyId, wrapped]);
}
