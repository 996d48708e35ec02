/**
 * Who may see which patient — one rule, used by pull, key unwrap, push and break-glass:
 * a user may see a patient when on one of the patient's care teams, or while holding an active
 * break-glass grant for that patient (the rule as SQL: store/visibility.ts). Roles without
 * clinical access (billing, admin, privacy officer) are not on care teams, so they see no records
 * through sync.
 */
import type { Sql } from '../db/db';
import * as careTeams from '../store/care-teams';
import * as patients from '../store/patients';
import { canSee } from '../store/visibility';

export { canSee as canSeePatient } from '../store/visibility';

/**
 * A patient the server has never heard of, registered by a clinician at a workstation: it joins
 * that clinician's care teams (the author treats them). Returns false when the patient exists.
 */
export async function registerNewPatient(sql: Sql, userId: string, patientId: string): Promise<boolean> {
  if (!(await patients.insertIfAbsent(sql, patientId))) return false;
  await careTeams.addPatientToTeamsOf(sql, userId, patientId);
  return true;
}

/** Patients visible to the user, or registered now as new patients when the user is a clinician on a care team. */
export async function canSeeOrRegister(sql: Sql, userId: string, patientId: string, now: Date): Promise<boolean> {
  if (await canSee(sql, userId, patientId, now)) return true;
  if (!(await careTeams.hasMember(sql, userId))) return false;
  return (await registerNewPatient(sql, userId, patientId)) && canSee(sql, userId, patientId, now);
}
