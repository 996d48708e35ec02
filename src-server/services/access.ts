/**
 * Who may see which patient — one rule, used by pull, key unwrap, push and break-glass:
 * a user may see a patient when on one of the patient's care teams, or while holding an active
 * break-glass grant for that patient. Roles without clinical access (billing, admin, privacy
 * officer) are not on care teams, so they see no records through sync.
 */
import type { Sql } from '../db/db';

/** SQL fragment: patient ids visible to user $1 at time $2. */
export const VISIBLE_PATIENTS_SQL = `
  SELECT ctp.patient_id FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = $1
  UNION
  SELECT g.patient_id FROM break_glass_grants g WHERE g.user_id = $1 AND g.starts_at <= $2 AND g.expires_at > $2`;

export async function canSeePatient(sql: Sql, userId: string, patientId: string, now: Date): Promise<boolean> {
  const rows = await sql.query(`SELECT 1 FROM (${VISIBLE_PATIENTS_SQL}) v WHERE v.patient_id = $3 LIMIT 1`, [userId, now, patientId]);
  return rows.length > 0;
}

export async function careTeamPatientIds(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql.query<{ patient_id: string }>(
    'SELECT DISTINCT ctp.patient_id FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = $1 ORDER BY 1',
    [userId],
  );
  return rows.map((r) => r.patient_id);
}

/**
 * A patient the server has never heard of, registered by a clinician at a workstation: it joins
 * that clinician's care teams (the author treats them). Returns false when the patient exists.
 */
export async function registerNewPatient(sql: Sql, userId: string, patientId: string): Promise<boolean> {
  const inserted = await sql.query('INSERT INTO patients (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id', [patientId]);
  if (inserted.length === 0) return false;
  await sql.query(
    'INSERT INTO care_team_patients (team_id, patient_id) SELECT team_id, $2 FROM care_team_members WHERE user_id = $1 ON CONFLICT DO NOTHING',
    [userId, patientId],
  );
  return true;
}

/** Patients visible to the user, or registered now as new patients when the user is a clinician on a care team. */
export async function canSeeOrRegister(sql: Sql, userId: string, patientId: string, now: Date): Promise<boolean> {
  if (await canSeePatient(sql, userId, patientId, now)) return true;
  const teams = await sql.query('SELECT 1 FROM care_team_members WHERE user_id = $1 LIMIT 1', [userId]);
  if (teams.length === 0) return false;
  return (await registerNewPatient(sql, userId, patientId)) && canSeePatient(sql, userId, patientId, now);
}
