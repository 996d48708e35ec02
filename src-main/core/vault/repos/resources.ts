/**
 * FHIR R4 resources, validated with Medplum on every write. `version` is the server's version the
 * record is based on; `status` says whether it is synced, waiting in the outbox, in conflict (the
 * other side kept in conflict_json for a clinician to resolve) or deleted (a tombstone).
 *
 * Records pulled in bulk (`putPulled`) are the one exception: their envelopes were authenticated
 * and their JSON names the record, but Medplum validation (~140 µs each) is deferred to their first
 * read (`validated` = 0). Every read path below validates such a row before returning it: valid ->
 * `validated` = 1, invalid -> `validated` = -1, quarantined: kept, never returned as a record
 * (`get` throws a PHI-free INVALID naming ids and paths, listings leave it out). docs/sync.md.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Db } from '../connection';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
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

interface Row { id: string; patient_id: string | null; resource_type: string; version: number; status: ResourceStatus; json: string; conflict_json: string | null; updated_at: string; validated?: number; clinical_date?: string | null }

/** Where a chart page ends: the clinical date and id of its oldest record (the next page starts below it). */
export interface ClinicalCursor {
  /** '' for records without a clinical date (they sort oldest). */
  date: string;
  id: string;
}

/**
 * A record from the server, ready to store without re-serialising: its envelope opened
 * (authenticated against record id, patient id, type, version and key id) and `json` is the exact
 * plaintext, a JSON object whose resourceType and id are the envelope's. FHIR validation happens
 * on first read.
 */
export interface PulledResourceInput {
  id: string;
  patientId: string;
  resourceType: string;
  version: number;
  json: string;
}

/** What the sync engine needs to know of a local row before applying a server version (no JSON parsed, no validation). */
export interface LocalResourceState {
  version: number;
  status: ResourceStatus;
}

/** `validated` column: 1 validated (every local write, and pulled records once read), 0 pulled and not yet validated, -1 quarantined. */
const VALID = 1;
const UNCHECKED = 0;
const QUARANTINED = -1;

/** A pulled record that failed FHIR validation: kept in the vault for review, never shown as a record. Ids and paths only. */
export function quarantinedError(id: string, resourceType: string, detail: { problems?: number; paths?: string } = {}): EhrError {
  return new EhrError(ErrorCode.INVALID, 'This record from the server is not valid FHIR; it is kept, quarantined, for review and is not shown.', {
    reason: 'QUARANTINED', recordId: id, resourceType, ...detail,
  });
}

function toStored(r: Row): StoredResource {
  return {
    id: r.id, patientId: r.patient_id, resourceType: r.resource_type as Resource['resourceType'], version: r.version,
    status: r.status, resource: JSON.parse(r.json) as Resource, updatedAt: r.updated_at,
  };
}

export function createResourceRepository(db: Db) {
  const markValidated = db.prepare('UPDATE resources SET validated = ? WHERE id = ?');
  /**
   * The gate every read goes through: a pulled row not yet validated is validated now (Medplum,
   * and its id/type against the row's). Returns null for a quarantined row.
   */
  function admit(r: Row): StoredResource | null {
    if (r.validated === undefined || r.validated === VALID) return toStored(r);
    if (r.validated === QUARANTINED) return null;
    const stored = toStored(r);
    try {
      if (stored.resource?.resourceType !== r.resource_type || stored.resource.id !== r.id) throw invalidRecord('FHIR resource', { resourceType: r.resource_type });
      assertValidResource(stored.resource);
    } catch (e) {
      if (!(e instanceof EhrError) || e.code !== ErrorCode.INVALID) throw e;
      markValidated.run(QUARANTINED, r.id);
      return null;
    }
    markValidated.run(VALID, r.id);
    return stored;
  }
  const admitEach = (rows: Row[]): StoredResource[] => rows.flatMap((r) => admit(r) ?? []);
  // A listing with rows still to validate marks them in one transaction: one commit, not one per
  // row (a first chart read after a pull marks ~200; synchronous FULL syncs every commit).
  const admitInOne = db.transaction(admitEach);
  const admitAll = (rows: Row[]): StoredResource[] => (rows.some((r) => r.validated === UNCHECKED) ? admitInOne(rows) : admitEach(rows));
  const upsert = db.prepare(`
    INSERT INTO resources (id, patient_id, resource_type, version, status, json, updated_at)
    VALUES (@id, @patientId, @resourceType, @version, @status, @json, @updatedAt)
    ON CONFLICT(id) DO UPDATE SET patient_id = excluded.patient_id, resource_type = excluded.resource_type,
      version = excluded.version, status = excluded.status, json = excluded.json, updated_at = excluded.updated_at, validated = ${VALID}`);
  const pulledUpsert = db.prepare(`
    INSERT INTO resources (id, patient_id, resource_type, version, status, json, updated_at, validated)
    VALUES (?, ?, ?, ?, 'synced', ?, ?, ${UNCHECKED})
    ON CONFLICT(id) DO UPDATE SET patient_id = excluded.patient_id, resource_type = excluded.resource_type,
      version = excluded.version, status = 'synced', json = excluded.json, updated_at = excluded.updated_at, validated = ${UNCHECKED}`);
  const statesOf = db.prepare<[string], { id: string; version: number; status: ResourceStatus }>(
    'SELECT r.id, r.version, r.status FROM json_each(?) j JOIN resources r ON r.id = j.value');
  const quarantinedRows = db.prepare<[number], { id: string; patient_id: string | null; resource_type: string }>(
    `SELECT id, patient_id, resource_type FROM resources WHERE validated = ${QUARANTINED} ORDER BY id LIMIT ?`);
  const byId = db.prepare<[string], Row>('SELECT * FROM resources WHERE id = ?');
  const byPatient = db.prepare<[string, number], Row>(
    "SELECT * FROM resources WHERE patient_id = ? AND status <> 'deleted' ORDER BY updated_at DESC, id LIMIT ?");
  const byPatientType = db.prepare<[string, string, number], Row>(
    "SELECT * FROM resources WHERE patient_id = ? AND resource_type = ? AND status <> 'deleted' ORDER BY updated_at DESC, id LIMIT ?");
  // The chart's read path (vault migration 4): by type, newest clinical date first, ties by id.
  const byPatientTypes = db.prepare<[string, string, number], Row>(
    `SELECT * FROM resources WHERE patient_id = ? AND resource_type IN (SELECT value FROM json_each(?)) AND status <> 'deleted'
      ORDER BY coalesce(clinical_date, '') DESC, id DESC LIMIT ?`);
  const pageByDate = db.prepare<[string, string, string, string, string, number], Row>(
    `SELECT * FROM resources WHERE patient_id = ? AND resource_type IN (SELECT value FROM json_each(?)) AND status <> 'deleted'
      AND (coalesce(clinical_date, '') < ? OR (coalesce(clinical_date, '') = ? AND id < ?))
      ORDER BY coalesce(clinical_date, '') DESC, id DESC LIMIT ?`);
  const vitalSigns = db.prepare<[string, number], Row>(
    `SELECT * FROM resources WHERE patient_id = ? AND resource_type = 'Observation' AND status <> 'deleted'
      AND instr(json_extract(json, '$.category'), '"vital-signs"') > 0
      ORDER BY coalesce(clinical_date, '') DESC, id DESC LIMIT ?`);
  const typeCounts = db.prepare<[string], { resource_type: string; n: number }>(
    "SELECT resource_type, count(*) AS n FROM resources WHERE patient_id = ? AND status <> 'deleted' GROUP BY resource_type ORDER BY resource_type");
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
    /** The record, or null; a quarantined pulled record throws a PHI-free INVALID (`detail.reason = 'QUARANTINED'`). */
    get(id: string): StoredResource | null {
      const row = byId.get(id);
      if (!row) return null;
      const stored = admit(row);
      if (!stored) throw quarantinedError(row.id, row.resource_type);
      return stored;
    },
    listByPatient(patientId: string, opts: { resourceType?: string; limit?: number } = {}): StoredResource[] {
      const limit = Math.max(1, Math.min(1000, Math.trunc(opts.limit ?? 200)));
      const rows = opts.resourceType ? byPatientType.all(patientId, opts.resourceType, limit) : byPatient.all(patientId, limit);
      return admitAll(rows);
    },
    /**
     * The patient's records of these types, newest clinical date first; with `before`, only those
     * older than that cursor (a chart page). Quarantined rows are left out, like every listing;
     * `last` is where the page ended (its oldest row, quarantined or not), null when it was empty.
     */
    listByClinicalDate(patientId: string, types: readonly string[], opts: { before?: ClinicalCursor | null; limit: number }): { records: StoredResource[]; last: ClinicalCursor | null; full: boolean } {
      const limit = Math.max(1, Math.min(100_000, Math.trunc(opts.limit)));
      const t = JSON.stringify(types);
      const b = opts.before;
      const rows = b ? pageByDate.all(patientId, t, b.date, b.date, b.id, limit) : byPatientTypes.all(patientId, t, limit);
      const end = rows.at(-1);
      return { records: admitAll(rows), last: end ? { date: end.clinical_date ?? '', id: end.id } : null, full: rows.length === limit };
    },
    /** The patient's newest vital-sign Observations (category vital-signs), newest clinical date first. */
    latestVitalSigns(patientId: string, limit: number): StoredResource[] {
      return admitAll(vitalSigns.all(patientId, Math.max(1, Math.trunc(limit))));
    },
    /** How many live (not deleted) records the patient has, by resource type. */
    countByType(patientId: string): Map<string, number> {
      return new Map(typeCounts.all(patientId).map((r) => [r.resource_type, r.n]));
    },
    listByStatus(status: ResourceStatus, limit = 200): StoredResource[] {
      return admitAll(byStatus.all(status, limit));
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
    /**
     * Stores server versions in bulk (call inside vault.transaction): one prepared statement, the
     * plaintext JSON as it came out of the envelope, status 'synced', FHIR validation deferred to
     * the first read. The caller has authenticated each record and decided it may replace the local row.
     */
    putPulled(rows: readonly PulledResourceInput[]): void {
      const now = new Date().toISOString();
      for (const r of rows) pulledUpsert.run(r.id, r.patientId, r.resourceType, r.version, r.json, now);
    },
    /** Version and status of the given ids that exist locally (one query; no JSON parsed, nothing validated). */
    localStates(ids: readonly string[]): Map<string, LocalResourceState> {
      const out = new Map<string, LocalResourceState>();
      if (ids.length === 0) return out;
      for (const r of statesOf.all(JSON.stringify(ids))) out.set(r.id, { version: r.version, status: r.status });
      return out;
    },
    /** Pulled records that failed FHIR validation on first read (ids only), for review. */
    quarantined(limit = 1000): { id: string; patientId: string | null; resourceType: string }[] {
      return quarantinedRows.all(limit).map((r) => ({ id: r.id, patientId: r.patient_id, resourceType: r.resource_type }));
    },
    /** Removes every cached resource of the patient (and its Patient resource), whatever the status. Returns how many. */
    deleteForPatient(patientId: string): number {
      return delPatient.run(patientId, patientId).changes;
    },
  };
}
export type ResourceRepository = ReturnType<typeof createResourceRepository>;
