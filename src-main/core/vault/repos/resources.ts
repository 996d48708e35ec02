/**
 * FHIR R4 resources, validated with Medplum on every write. `version` is the server's version the
 * record is based on; `status` says whether it is synced, waiting in the outbox, in conflict (the
 * other side kept in conflict_json for a clinician to resolve) or deleted (a tombstone).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../connection';
import { invalidRecord } from '../errors';
import { assertValidResource } from '../fhir-validate';

export const RESOURCE_STATUSES = ['synced', 'pending', 'conflict', 'deleted'] as const;
export type ResourceStatus = (typeof RESOURCE_STATUSES)[number];

export interface StoredResource<T extends Resource = Resource> {
  id: string;
  patientId: string | null;
  resourceType: T['resourceType'];
  version: number;
  status: ResourceStatus;
  resource: T;
  updatedAt: string;
}

export interface ResourceInput<T extends Resource = Resource> {
  /** Must carry an id. */
  resource: T;
  patientId: string | null;
  version: number;
  status?: ResourceStatus;
}

export interface ConflictSide {
  version: number;
  resource: Resource;
}

interface Row { id: string; patient_id: string | null; resource_type: string; version: number; status: ResourceStatus; json: string; conflict_json: string | null; updated_at: string }

function toStored(r: Row): StoredResource {
  return {
    id: r.id, patientId: r.patient_id, resourceType: r.resource_type as Resource['resourceType'], version: r.version,
    status: r.status, resource: JSON.parse(r.json) as Resource, updatedAt: r.updated_at,
  };
}

export function createResourceRepository(db: Db) {
  const upsert = db.prepare(`
    INSERT INTO resources (id, patient_id, resource_type, version, status, json, updated_at)
    VALUES (@id, @patientId, @resourceType, @version, @status, @json, @updatedAt)
    ON CONFLICT(id) DO UPDATE SET patient_id = excluded.patient_id, resource_type = excluded.resource_type,
      version = excluded.version, status = excluded.status, json = excluded.json, updated_at = excluded.updated_at`);
  const byId = db.prepare<[string], Row>('SELECT * FROM resources WHERE id = ?');
  const byPatient = db.prepare<[string, number], Row>(
    "SELECT * FROM resources WHERE patient_id = ? AND status <> 'deleted' ORDER BY updated_at DESC, id LIMIT ?");
  const byPatientType = db.prepare<[string, string, number], Row>(
    "SELECT * FROM resources WHERE patient_id = ? AND resource_type = ? AND status <> 'deleted' ORDER BY updated_at DESC, id LIMIT ?");
  const byStatus = db.prepare<[string, number], Row>('SELECT * FROM resources WHERE status = ? ORDER BY updated_at, id LIMIT ?');
  const setStatusStmt = db.prepare('UPDATE resources SET status = ?, version = coalesce(?, version), updated_at = ? WHERE id = ?');
  const setConflict = db.prepare("UPDATE resources SET status = 'conflict', conflict_json = ?, updated_at = ? WHERE id = ?");
  const clearConflictStmt = db.prepare('UPDATE resources SET conflict_json = NULL WHERE id = ?');
  const conflictOf = db.prepare<[string], { conflict_json: string | null }>('SELECT conflict_json FROM resources WHERE id = ?');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM resources');
  const countStatus = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM resources WHERE status = ?');
  const patientIds = db.prepare<[], { patient_id: string }>('SELECT DISTINCT patient_id FROM resources WHERE patient_id IS NOT NULL ORDER BY patient_id');
  const conflictsOfPatient = db.prepare<[string], Row>("SELECT * FROM resources WHERE patient_id = ? AND status = 'conflict' ORDER BY id");
  const delPatient = db.prepare("DELETE FROM resources WHERE patient_id = ? OR (resource_type = 'Patient' AND id = ?)");

  /** E.g. 'synced' with the server's new version after a push. Returns false when the id is unknown. */
  function setStatus(id: string, status: ResourceStatus, version?: number): boolean {
    return setStatusStmt.run(status, version ?? null, new Date().toISOString(), id).changes === 1;
  }

  return {
    setStatus,
    /** Validates (Medplum, FHIR R4) and inserts or replaces the resource. */
    put<T extends Resource>(input: ResourceInput<T>): StoredResource<T> {
      const id = input.resource.id;
      if (!id) throw invalidRecord('FHIR resource', { resourceType: String(input.resource.resourceType), missing: 'id' });
      if (!Number.isInteger(input.version) || input.version < 0) throw invalidRecord('FHIR resource', { id, field: 'version' });
      assertValidResource(input.resource);
      upsert.run({
        id, patientId: input.patientId, resourceType: input.resource.resourceType, version: input.version,
        status: input.status ?? 'pending', json: JSON.stringify(input.resource), updatedAt: new Date().toISOString(),
      });
      return toStored(byId.get(id) as Row) as StoredResource<T>;
    },
    get(id: string): StoredResource | null {
      const row = byId.get(id);
      return row ? toStored(row) : null;
    },
    listByPatient(patientId: string, opts: { resourceType?: string; limit?: number } = {}): StoredResource[] {
      const limit = Math.max(1, Math.min(1000, Math.trunc(opts.limit ?? 200)));
      const rows = opts.resourceType ? byPatientType.all(patientId, opts.resourceType, limit) : byPatient.all(patientId, limit);
      return rows.map(toStored);
    },
    listByStatus(status: ResourceStatus, limit = 200): StoredResource[] {
      return byStatus.all(status, limit).map(toStored);
    },
    /** Keeps our version and stores theirs beside it: nothing clinical is silently overwritten. */
    markConflict(id: string, theirs: ConflictSide): boolean {
      return setConflict.run(JSON.stringify(theirs), new Date().toISOString(), id).changes === 1;
    },
    getConflict(id: string): ConflictSide | null {
      const json = conflictOf.get(id)?.conflict_json;
      return json ? (JSON.parse(json) as ConflictSide) : null;
    },
    clearConflict(id: string): void {
      clearConflictStmt.run(id);
    },
    /** A tombstone: the row stays (status 'deleted') until the deletion is synced and acknowledged. */
    markDeleted(id: string): boolean {
      return setStatus(id, 'deleted');
    },
    count(): number {
      return (countAll.get() as { n: number }).n;
    },
    countByStatus(status: ResourceStatus): number {
      return (countStatus.get(status) as { n: number }).n;
    },
    /** Patients with at least one cached resource, sorted. */
    patientIds(): string[] {
      return patientIds.all().map((r) => r.patient_id);
    },
    /** The patient's records in conflict: ours (the resource) and theirs (the conflict side). */
    conflictsOfPatient(patientId: string): { local: StoredResource; theirs: ConflictSide | null }[] {
      return conflictsOfPatient.all(patientId).map((r) => ({ local: toStored(r), theirs: r.conflict_json ? (JSON.parse(r.conflict_json) as ConflictSide) : null }));
    },
    /** Removes every cached resource of the patient (and its Patient resource), whatever the status. Returns how many. */
    deleteForPatient(patientId: string): number {
      return delPatient.run(patientId, patientId).changes;
    },
  };
}
export type ResourceRepository = ReturnType<typeof createResourceRepository>;
