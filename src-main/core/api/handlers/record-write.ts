/**
 * The write path of records.save and records.createBatch, in two halves:
 * - `prepareWrite`, before the transaction: binds the resource to the chart, stamps a note's
 *   author, and checks the role's scope and note authorship. A refusal is audited here, outside
 *   the transaction, so its audit entry cannot roll back with the write it refused.
 * - `applyWrite`, inside the caller's vault transaction: the version check, the resource (validated
 *   by the vault with Medplum), its outbox row and the audit entry with before/after hashes.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { rolesAllow } from '../../../../src-shared/access';
import { RECORD_TYPES, type ChartResource, type RecordType, type SaveResult } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import { recordHash, type AuditActor } from '../../audit';
import type { UserSession } from '../../session';
import type { ApiContext } from '../context';
import { forbiddenAction, invalid, notFound } from '../errors';
import { refOf } from './chart-view';
import { mayChangeAsAuthor, stampNoteAuthor } from './note-authorship';

/** Every chart type: the coarse role checks ask whether a role may ever do X to any of them. */
export const ANY_TYPE = RECORD_TYPES as readonly string[];

/** Where each chart type points at its patient. */
const PATIENT_FIELD: Record<RecordType, 'subject' | 'patient' | null> = {
  Patient: null,
  Observation: 'subject',
  Condition: 'subject',
  DocumentReference: 'subject',
  MedicationRequest: 'subject',
  MedicationStatement: 'subject',
  Encounter: 'subject',
  Procedure: 'subject',
  AllergyIntolerance: 'patient',
  Immunization: 'patient',
};

/**
 * Binds the resource to the patient named by the call: a reference to another patient is refused
 * (a write cannot be smuggled into a chart the user was not checked against).
 */
function bindToPatient(resource: ChartResource, patientId: string, id: string): Resource {
  const field = PATIENT_FIELD[resource.resourceType];
  const out: Record<string, unknown> = { ...resource, id };
  if (field === null) {
    if (id !== patientId) throw invalid('A Patient resource can only be written to its own chart.', { field: 'id' });
    return out as unknown as Resource;
  }
  const ref = `Patient/${patientId}`;
  const given = (resource as unknown as Record<string, unknown>)[field] as { reference?: unknown } | undefined;
  if (given !== undefined && (typeof given !== 'object' || given === null || given.reference !== ref)) {
    throw invalid('The resource refers to a different patient than the chart it is saved to.', { field });
  }
  out[field] = { reference: ref };
  return out as unknown as Resource;
}

/** Records the refusal (with the patient id, which the dispatcher already found accessible) and throws FORBIDDEN. */
export function denyWrite(ctx: ApiContext, actor: AuditActor, patientId: string, channel: string): never {
  ctx.audit.record(actor, { type: 'access-denied', outcome: 'denied', patientId, reasonCode: ErrorCode.FORBIDDEN });
  throw forbiddenAction(channel);
}

/** Everything about one write that is decided before the transaction. */
export interface PreparedWrite {
  patientId: string;
  id: string;
  resource: Resource;
  /** undefined: a create. */
  baseVersion: number | undefined;
}

export interface WriteRequest {
  resource: ChartResource;
  baseVersion?: number | undefined;
}

export function prepareWrite(ctx: ApiContext, session: UserSession, actor: AuditActor, patientId: string, req: WriteRequest, channel: string): PreparedWrite {
  const isCreate = req.baseVersion === undefined;
  // A new record always gets a fresh UUID: a caller-chosen id could be any text, and ids end up
  // in the audit log and on the server. Retries are made safe by the outbox's mutation id.
  const id = isCreate ? randomUUID() : req.resource.id;
  if (!id) throw invalid('An update must name the record it changes.', { field: 'resource.id' });
  const resource = stampNoteAuthor(bindToPatient(req.resource, patientId, id), session.user.userId);
  if (!rolesAllow(session.user.roles, { resourceType: resource.resourceType, interaction: isCreate ? 'c' : 'u', resource })) {
    denyWrite(ctx, actor, patientId, channel);
  }
  const existing = isCreate ? null : ctx.vault.resources.get(id);
  if (existing?.resource && !mayChangeAsAuthor(existing.resource, session.user.userId)) denyWrite(ctx, actor, patientId, channel);
  return { patientId, id, resource, baseVersion: req.baseVersion };
}

/** Runs inside the caller's vault transaction: any throw rolls back this write and every other of it. */
export function applyWrite(ctx: ApiContext, actor: AuditActor, w: PreparedWrite): SaveResult {
  const isCreate = w.baseVersion === undefined;
  const before = ctx.vault.resources.get(w.id);
  if (!isCreate) {
    if (!before || before.patientId !== w.patientId || before.status === 'deleted') throw notFound('record');
    if (before.resourceType !== w.resource.resourceType) throw invalid('A record cannot change its type.', { id: w.id });
    if (before.version !== w.baseVersion) {
      throw new EhrError(ErrorCode.CONFLICT, 'This record changed since it was opened. Reload it and apply your change again.', { id: w.id, version: before.version });
    }
  }
  const version = before?.version ?? 0;
  const mutationId = randomUUID();
  const stored = ctx.vault.resources.put({ resource: w.resource, patientId: w.patientId, version, status: 'pending' });
  ctx.vault.outbox.enqueue({
    mutationId,
    recordId: w.id,
    patientId: w.patientId,
    resourceType: w.resource.resourceType,
    baseVersion: version,
    op: isCreate ? 'create' : 'update',
    payload: stored.resource,
  });
  ctx.audit.record(actor, {
    type: isCreate ? 'create' : 'update',
    patientId: w.patientId,
    resourceRefs: [refOf(stored)],
    beforeHash: before ? recordHash(before.resource) : null,
    afterHash: recordHash(stored.resource),
  });
  return { id: w.id, version: stored.version, mutationId };
}
