/**
 * auth_throttle: failed password checks per key (an HMAC of an account name, or a source address)
 * in a window that starts at the key's first failure. Only ever changed by one atomic upsert.
 */
import type { Sql } from '../db/db';

export interface ThrottleRow {
  key: string;
  window_start: Date;
  failures: number;
}

/** The keys' rows whose window started after `windowStart` (the others have lapsed). */
export async function current(sql: Sql, keys: readonly string[], windowStart: Date): Promise<ThrottleRow[]> {
  return sql.query<ThrottleRow>('SELECT key, window_start, failures FROM auth_throttle WHERE key = ANY($1::text[]) AND window_start > $2', [[...keys], windowStart]);
}

/**
 * +1 failure for each key in one upsert; a key whose window started at or before `windowStart`
 * starts a new window at `now` with 1.
 */
export async function countFailure(sql: Sql, keys: readonly string[], now: Date, windowStart: Date): Promise<void> {
  await sql.query(
    `INSERT INTO auth_throttle (key, window_start, failures) SELECT k, $2, 1 FROM unnest($1::text[]) AS t(k)
     ON CONFLICT (key) DO UPDATE SET
       failures = CASE WHEN auth_throttle.window_start <= $3 THEN 1 ELSE auth_throttle.failures + 1 END,
       window_start = CASE WHEN auth_throttle.window_start <= $3 THEN $2 ELSE auth_throttle.window_start END`,
    [[...keys], now, windowStart],
  );
}
