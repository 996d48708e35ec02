/**
 * Which patients a user may see, as SQL — the one access rule (services/access.ts says why): on
 * one of the patient's care teams, or holding a break-glass grant active at `now`.
 */
import type { Sql } from '../db/db';

/** Patient ids visible to user $1 at time $2. */
const VISIBLE_PATIENTS_SQL = `
  SELECT ctp.patient_id FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = $1
  UNION
  SELECT g.patient_id FROM break_glass_grants g WHERE g.user_id = $1 AND g.starts_at <= $2 AND g.expires_at > $2`;

export async function canSee(sql: Sql, userId: string, patientId: string, now: Date): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM (${VISIBLE_PATIENTS_SQL}) v WHERE v.patient_id = $3 LIMIT 1`, [userId, now, patientId]);
  return rows.length > 0;
}

/** Every patient the user may see now (resolved once per pull). */
export async function visiblePatientIds(sql: Sql, userId: string, now: Date): Promise<string[]> {
  const rows = await sql.query<{ patient_id: string }>(`SELECT v.patient_id FROM (${VISIBLE_PATIENTS_SQL}) v`, [userId, now]);
  return rows.map((r) => r.patient_id);
}

/** The ones among these patients the user may see now. */
export async function visibleAmong(sql: Sql, userId: string, now: Date, patientIds: readonly string[]): Promise<Set<string>> {
  const rows = await sql.query<{ patient_id: string }>(
    `SELECT v.patient_id FROM (${VISIBLE_PATIENTS_SQL}) v WHERE v.patient_id = ANY($3::text[])`,
    [userId, now, [...patientIds]],
  );
  return new Set(rows.map((r) => r.patient_id));
}
