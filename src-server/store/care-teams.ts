/**
 * Care teams: care_teams, their members (care_team_members) and their patients
 * (care_team_patients). Being on a patient's care team is what gives a clinician access
 * (visibility.ts); admins replace a team's lists as a whole.
 */
import type { Sql } from '../db/db';

export interface CareTeam {
  id: string;
  name: string;
  userIds: string[];
  patientIds: string[];
}

/** Every team with its members and patients, by id. */
export async function list(sql: Sql): Promise<CareTeam[]> {
  const teams = await sql.query<{ id: string; name: string }>('SELECT id, name FROM care_teams ORDER BY id');
  const members = await sql.query<{ team_id: string; user_id: string }>('SELECT team_id, user_id FROM care_team_members');
  const patients = await sql.query<{ team_id: string; patient_id: string }>('SELECT team_id, patient_id FROM care_team_patients');
  return teams.map((t) => ({
    id: t.id, name: t.name,
    userIds: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
    patientIds: patients.filter((p) => p.team_id === t.id).map((p) => p.patient_id),
  }));
}

/**
 * Creates the team or renames it, and replaces its members and patients with these lists. Run it
 * in a transaction: between the deletes and the inserts the team is empty. The patients must
 * exist (patients.ensureAll).
 */
export async function replace(sql: Sql, team: CareTeam): Promise<void> {
  await sql.query('INSERT INTO care_teams (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name', [team.id, team.name]);
  await sql.query('DELETE FROM care_team_members WHERE team_id = $1', [team.id]);
  await sql.query('DELETE FROM care_team_patients WHERE team_id = $1', [team.id]);
  await sql.query('INSERT INTO care_team_members (team_id, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [team.id, team.userIds]);
  await sql.query('INSERT INTO care_team_patients (team_id, patient_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [team.id, team.patientIds]);
}

/** Is the user on any care team (a clinician who treats someone)? */
export async function hasMember(sql: Sql, userId: string): Promise<boolean> {
  const rows = await sql.query('SELECT 1 FROM care_team_members WHERE user_id = $1 LIMIT 1', [userId]);
  return rows.length > 0;
}

/** Puts the patient on every team the user is a member of. */
export async function addPatientToTeamsOf(sql: Sql, userId: string, patientId: string): Promise<void> {
  await sql.query(
    'INSERT INTO care_team_patients (team_id, patient_id) SELECT team_id, $2 FROM care_team_members WHERE user_id = $1 ON CONFLICT DO NOTHING',
    [userId, patientId],
  );
}

/** The patients on the user's care teams, sorted. */
export async function patientIdsOf(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql.query<{ patient_id: string }>(
    'SELECT DISTINCT ctp.patient_id FROM care_team_patients ctp JOIN care_team_members ctm ON ctm.team_id = ctp.team_id WHERE ctm.user_id = $1 ORDER BY 1',
    [userId],
  );
  return rows.map((r) => r.patient_id);
}
