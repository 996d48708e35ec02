/** enrollment_codes: one-time device enrollment codes, stored only as a hash (the hashing is services/enrollment.ts'). */
import type { Sql } from '../db/db';

export async function insert(sql: Sql, codeHash: string, createdBy: string, expiresAt: Date): Promise<void> {
  await sql.query('INSERT INTO enrollment_codes (code_hash, created_by, expires_at) VALUES ($1, $2, $3)', [codeHash, createdBy, expiresAt]);
}

/**
 * Uses the code for this device if it is unused and unexpired at `now`, in one UPDATE: of two
 * enrollments racing on one code exactly one gets true.
 */
export async function consume(sql: Sql, codeHash: string, deviceId: string, now: Date): Promise<boolean> {
  const used = await sql.query(
    'UPDATE enrollment_codes SET used_at = $2, device_id = $3 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING code_hash',
    [codeHash, now, deviceId],
  );
  return used.length > 0;
}
