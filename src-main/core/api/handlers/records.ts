/**
 * records.*: reading a chart's records, and the "one write": a single vault transaction stores the
 * resource (validated by the vault with Medplum), queues its outbox mutation and appends the
 * audit entry with before/after hashes. Either all three happen or none.
 */
import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import { rolesAllow, rolesMayEver } from '../../../../src-shared/access';
import { RECORD_TYPES, type ChartResource, type RecordType } from '../../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import { recordHash } from '../../audit';
import type { StoredResource } from '../../vault';
import type { GuardedCall, HandlerTable } from '../handler';
import type { ApiContext } from '../context';
import { forbiddenAction, invalid, notFound } from '../errors';
import { mayRead, readableRecords, refOf, timelinePage, toRecordView } from './chart-view';
import { mayChangeAsAuthor, stampNoteAuthor } from './note-authorship';

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

/** The stored record, only when it belongs to this patient (otherwise NOT_FOUND: no cross-chart probing). */
function recordOfPatient(ctx: ApiContext, patientId: string, recordId: string): StoredResource {
  const r = ctx.vault.resources.get(recordId);
  if (!r || r.patientId !== patientId || r.status === 'deleted') throw notFound('record');
  return r;
}

function denyWrite(ctx: ApiContext, call: GuardedCall<'records.save' | 'records.delete'>, channel: string): never {
  ctx.audit.record(call.actor, { type: 'access-denied', outcome: 'denied', patientId: call.input.patientId, reasonCode: ErrorCode.FORBIDDEN });
  throw forbiddenAction(channel);
}

const ANY_TYPE = RECORD_TYPES as readonly string[];

export const recordHandlers: Pick<HandlerTable, 'records.list' | 'records.get' | 'records.older' | 'records.save' | 'records.delete'> = {
  'records.list': {
    allow: (roles) => rolesMayEver(roles, 'r', ANY_TYPE),
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const records = readableRecords(ctx.vault, session.user.roles, input.patientId, input.resourceType ? { resourceType: input.resourceType } : {});
      ctx.audit.record(actor, { type: 'read', patientId: input.patientId, resourceRefs: records.map(refOf) });
      return records.map(toRecordView);
    },
  },
  'records.older': {
    allow: (roles) => rolesMayEver(roles, 'r', ANY_TYPE),
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const page = timelinePage(ctx.vault, session.user.roles, input.patientId, input.before, input.limit);
      ctx.audit.record(actor, { type: 'read', patientId: input.patientId, resourceRefs: page.records.map(refOf) });
      return { records: page.records.map(toRecordView), olderCursor: page.olderCursor };
    },
  },
  'records.get': {
    allow: (roles) => rolesMayEver(roles, 'r', ANY_TYPE),
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const r = recordOfPatient(ctx, input.patientId, input.recordId);
      if (!mayRead(session.user.roles, r)) {
        ctx.audit.record(actor, { type: 'access-denied', outcome: 'denied', patientId: input.patientId, resourceRefs: [refOf(r)], reasonCode: ErrorCode.FORBIDDEN });
        throw forbiddenAction('records.get');
      }
      ctx.audit.record(actor, { type: 'read', patientId: input.patientId, resourceRefs: [refOf(r)] });
      return toRecordView(r);
    },
  },
  'records.save': {
    allow: (roles) => rolesMayEver(roles, 'c', ANY_TYPE) || rolesMayEver(roles, 'u', ANY_TYPE),
    patient: 'required',
    run(ctx, call) {
      const { input, session, actor } = call;
      const isCreate = input.baseVersion === undefined;
      // A new record always gets a fresh UUID: a caller-chosen id could be any text, and ids end up
      // in the audit log and on the server. Retries are made safe by the outbox's mutation id.
      const id = isCreate ? randomUUID() : input.resource.id;
      if (!id) throw invalid('An update must name the record it changes.', { field: 'resource.id' });
      const resource = stampNoteAuthor(bindToPatient(input.resource, input.patientId, id), session.user.userId);
      if (!rolesAllow(session.user.roles, { resourceType: resource.resourceType, interaction: isCreate ? 'c' : 'u', resource })) {
        denyWrite(ctx, call, 'records.save');
      }
      // Checked outside the transaction, like the role rule: a refusal's audit entry must not roll back with it.
      const existing = isCreate ? null : ctx.vault.resources.get(id);
      if (existing?.resource && !mayChangeAsAuthor(existing.resource, session.user.userId)) denyWrite(ctx, call, 'records.save');
      const mutationId = randomUUID();
      const result = ctx.vault.transaction(() => {
        const before = ctx.vault.resources.get(id);
        if (!isCreate) {
          if (!before || before.patientId !== input.patientId || before.status === 'deleted') throw notFound('record');
          if (before.resourceType !== resource.resourceType) throw invalid('A record cannot change its type.', { id });
          if (before.version !== input.baseVersion) {
            throw new EhrError(ErrorCode.CONFLICT, 'This record changed since it was opened. Reload it and apply your change again.', { id, version: before.version });
          }
        }
        const version = before?.version ?? 0;
        const stored = ctx.vault.resources.put({ resource, patientId: input.patientId, version, status: 'pending' });
        ctx.vault.outbox.enqueue({
          mutationId,
          recordId: id,
          patientId: input.patientId,
          resourceType: resource.resourceType,
          baseVersion: version,
          op: isCreate ? 'create' : 'update',
          payload: stored.resource,
        });
        ctx.audit.record(actor, {
          type: isCreate ? 'create' : 'update',
          patientId: input.patientId,
          resourceRefs: [refOf(stored)],
          beforeHash: before ? recordHash(before.resource) : null,
          afterHash: recordHash(stored.resource),
        });
        return { id, version: stored.version, mutationId };
      });
      ctx.sync?.notifyLocalChange?.();
      return result;
    },
  },
  'records.delete': {
    allow: (roles) => rolesMayEver(roles, 'd', ANY_TYPE),
    patient: 'required',
    run(ctx, call) {
      const { input, session, actor } = call;
      const mutationId = randomUUID();
      // Checked outside the transaction: a refusal's audit entry must not roll back with it.
      const target = recordOfPatient(ctx, input.patientId, input.recordId);
      if (!rolesAllow(session.user.roles, { resourceType: target.resourceType, interaction: 'd', resource: target.resource })) {
        denyWrite(ctx, call, 'records.delete');
      }
      if (!mayChangeAsAuthor(target.resource, session.user.userId)) denyWrite(ctx, call, 'records.delete');
      const result = ctx.vault.transaction(() => {
        const before = recordOfPatient(ctx, input.patientId, input.recordId);
        if (before.version !== input.baseVersion) {
          throw new EhrError(ErrorCode.CONFLICT, 'This record changed since it was opened. Reload it first.', { id: before.id, version: before.version });
        }
        ctx.vault.resources.markDeleted(before.id);
        ctx.vault.outbox.enqueue({
          mutationId,
          recordId: before.id,
          patientId: input.patientId,
          resourceType: before.resourceType,
          baseVersion: before.version,
          op: 'delete',
          payload: { id: before.id, resourceType: before.resourceType },
        });
        ctx.audit.record(actor, { type: 'delete', patientId: input.patientId, resourceRefs: [refOf(before)], beforeHash: recordHash(before.resource), afterHash: null });
        return { id: before.id, version: before.version, mutationId };
      });
      ctx.sync?.notifyLocalChange?.();
      return result;
    },
  },
};
