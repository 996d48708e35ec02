/**
 * Removing a patient's cached chart when access to the patient ends on this workstation (care-team
 * change, break-glass expiry, device revoked). One transaction:
 *
 *  - the patients row and its search tokens, and every cached resource of the patient (any status,
 *    the other side of a conflict included) go;
 *  - the clinician's unsent work stays: drafts are untouched; the patient's outbox rows stay and are
 *    HELD (`held:access-ended`), counted in sync status; ours of a record in conflict (whose outbox
 *    row was settled by the conflict) becomes a new held outbox row, so it is not lost with the chart;
 *  - audit entries are never deleted (append-only; they carry ids only).
 *
 * Held rows are released by `outbox.releaseForPatient(patientId, ACCESS_HOLD_CODES)` when access returns.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxRepository } from './repos/outbox';
import type { PatientRepository } from './repos/patients';
import type { ResourceRepository } from './repos/resources';

/** The hold code of unsent work whose patient left this workstation's access. */
export const ACCESS_ENDED = 'access-ended';
/**
 * Hold codes that only say "no access to this patient" (purged here, the key service refused the
 * key, the server refused the push): released when the patient is back in scope.
 */
export const ACCESS_HOLD_CODES: readonly string[] = [ACCESS_ENDED, 'FORBIDDEN', 'rejected:FORBIDDEN'];

export interface PatientPurgeReport {
  patientId: string;
  /** 1 when the patients row (and its search tokens) was removed. */
  patients: number;
  resources: number;
  /** Outbox rows now held (existing rows of the patient + our side of its conflicts). */
  heldMutations: number;
}

interface PurgeRepos {
  patients: PatientRepository;
  resources: ResourceRepository;
  outbox: OutboxRepository;
  transaction<T>(fn: () => T): T;
}

export function purgePatientCache(v: PurgeRepos, patientId: string): PatientPurgeReport {
  return v.transaction(() => {
    // Ours of a conflict lives only in the resource row (its outbox row was settled by the
    // conflict answer): keep it as unsent work, based on the version it was written on.
    for (const { local, theirs } of v.resources.conflictsOfPatient(patientId)) {
      const mine = (theirs as { mine?: { baseVersion?: unknown } } | null)?.mine;
      const baseVersion = typeof mine?.baseVersion === 'number' ? mine.baseVersion : local.version;
      v.outbox.enqueue({
        mutationId: randomUUID(), recordId: local.id, patientId, resourceType: local.resourceType,
        baseVersion, op: 'update', payload: local.resource,
      });
    }
    const held = v.outbox.holdForPatient(patientId, ACCESS_ENDED);
    const resources = v.resources.deleteForPatient(patientId);
    const patients = v.patients.delete(patientId) ? 1 : 0;
    return { patientId, patients, resources, heldMutations: held };
  });
}

/** Patients with anything cached on this workstation (a patients row or a resource), sorted ids. */
export function cachedPatientIds(v: Pick<PurgeRepos, 'patients' | 'resources'>): string[] {
  return [...new Set([...v.patients.ids(), ...v.resources.patientIds()])].sort();
}
