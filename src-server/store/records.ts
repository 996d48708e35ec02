/**
 * The records table: one row per record, the newest envelope only (the server stores envelopes,
 * never plaintext). `seq` is the pull cursor: every write takes the next value of record_seq, so
 * a record changed again moves to the end of the walk.
 */
import type { Sql } from '../db/db';

/** One transaction-scoped advisory lock for every record writer (see lockForWrite). */
export const RECORD_WRITE_LOCK = 7_340_002;

export interface RecordRow {
  record_id: string;
  patient_id: string;
  resource_type: string;
  version: number;
  key_id: string;
  nonce: string;
  ct: string;
  tag: string;
  deleted: boolean;
  author_user_id: string;
  device_id: string;
  updated_at: Date | string;
}

export const RECORD_COLUMNS = 'record_id, patient_id, resource_type, version, key_id, nonce, ct, tag, deleted, author_user_id, device_id, updated_at';

/**
 * Serialises record writers until the transaction ends, so that seq is assigned in commit order:
 * a reader walking the seq index never passes a seq that commits later.
 */
export async function lockForWrite(sql: Sql): Promise<void> {
  await sql.query('SELECT pg_advisory_xact_lock($1)', [RECORD_WRITE_LOCK]);
}

/** The current rows of these records (absent ids are simply missing). */
export async function heads(sql: Sql, recordIds: readonly string[]): Promise<RecordRow[]> {
  return sql.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE record_id = ANY($1::text[])`, [[...recordIds]]);
}

/**
 * Inserts or replaces rows in one statement. Each row takes a fresh seq in the order given (WITH
 * ORDINALITY ... ORDER BY), so the pull walk sees a batch in the order it was pushed.
 */
export async function upsert(sql: Sql, rows: readonly RecordRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof RecordRow>(k: K) => rows.map((r) => r[k]);
  await sql.query(
    `INSERT INTO records (${RECORD_COLUMNS}, seq)
     SELECT a, b, c, d, e, f, g, h, i, j, k, l, nextval('record_seq') FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::text[],
                                              $9::boolean[], $10::text[], $11::text[], $12::timestamptz[]) WITH ORDINALITY AS t(a, b, c, d, e, f, g, h, i, j, k, l, o)
     ORDER BY o
     ON CONFLICT (record_id) DO UPDATE SET version = EXCLUDED.version, key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ct = EXCLUDED.ct,
       tag = EXCLUDED.tag, deleted = EXCLUDED.deleted, author_user_id = EXCLUDED.author_user_id, device_id = EXCLUDED.device_id,
       updated_at = EXCLUDED.updated_at, seq = EXCLUDED.seq`,
    [
      col('record_id'), col('patient_id'), col('resource_type'), col('version'), col('key_id'), col('nonce'), col('ct'), col('tag'),
      col('deleted'), col('author_user_id'), col('device_id'), rows.map((r) => new Date(r.updated_at).toISOString()),
    ],
  );
}
