/**
 * break_glass_grants: time-limited access to one patient, granted online (POST /v1/break-glass)
 * after the password was proved again. The justification and the reviewer's note arrive here
 * sealed with the notes key; the access rule that reads active grants is in visibility.ts.
 */
import type { Sql } from '../db/db';

export interface GrantRow {
  id: string;
  user_id: string;
  patient_id: string;
  reason: string;
  justification_sealed: string;
  starts_at: Date;
  expires_at: Date;
  reviewed_at: Date | null;
  reviewed_by: string | null;
  review_note_sealed: string | null;
}

export interface NewGrant {
  id: string;
  userId: string;
  patientId: string;
  reason: string;
  justificationSealed: string;
  startsAt: Date;
  expiresAt: Date;
}

export async function insert(sql: Sql, g: NewGrant): Promise<void> {
  await sql.query(
    'INSERT INTO break_glass_grants (id, user_id, patient_id, reason, justification_sealed, starts_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [g.id, g.userId, g.patientId, g.reason, g.justificationSealed, g.startsAt, g.expiresAt],
  );
}

/** The user's grants that have not expired at `now`, oldest first (what GET /me reports). */
export async function unexpiredOf(sql: Sql, userId: string, now: Date): Promise<GrantRow[]> {
  return sql.query<GrantRow>('SELECT * FROM break_glass_grants WHERE user_id = $1 AND expires_at > $2 ORDER BY starts_at', [userId, now]);
}

/** The newest grants, for review. */
export async function newest(sql: Sql, limit: number): Promise<GrantRow[]> {
  return sql.query<GrantRow>('SELECT * FROM break_glass_grants ORDER BY starts_at DESC LIMIT $1::int', [limit]);
}

/** Records the review (the database's clock) with the sealed note; undefined when there is no such grant. */
export async function review(sql: Sql, id: string, by: string, noteSealed: string): Promise<GrantRow | undefined> {
  const [row] = await sql.query<GrantRow>(
    'UPDATE break_glass_grants SET reviewed_at = now(), reviewed_by = $2, review_note_sealed = $3 WHERE id = $1 RETURNING *',
    [id, by, noteSealed],
  );
  return row;
}
