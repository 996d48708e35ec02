/**
 * records.*: reading a chart's records, and the "one write": a single vault transaction stores the
 * resource (validated by the vault with Medplum), queues its outbox mutation and appends the
 * audit entry with before/after hashes. Either all three happen or none (record-write.ts; several
 * new records at once: record-batch.ts).
 */
import { randomUUID } from 'node:crypto';
import { rolesAllow, rolesMayEver } from '../../../../src-shared/access';
import { EhrError, ErrorCode } from '../../../../src-shared/errors';
import { recordHash } from '../../audit';
import type { StoredResource } from '../../vault';
import type { HandlerTable } from '../handler';
import type { ApiContext } from '../context';
import { forbiddenAction, notFound } from '../errors';
import { mayRead, readableRecords, refOf, timelinePage, toRecordView } from './chart-view';
import { mayChangeAsAuthor } from './note-authorship';
import { ANY_TYPE, applyWrite, denyWrite, prepareWrite } from './record-write';

/** The stored record, only when it belongs to this patient (otherwise NOT_FOUND: no cross-chart probing). */
function recordOfPatient(ctx: ApiContext, patientId: string, recordId: string): StoredResource {
  const r = ctx.vault.resources.get(recordId);
  if (!r || r.patientId !== patientId || r.status === 'deleted') throw notFound('record');
  return r;
}

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
    run(ctx, { input, session, actor }) {
      const write = prepareWrite(ctx, session, actor, input.patientId, input, 'records.save');
      const result = ctx.vault.transaction(() => applyWrite(ctx, actor, write));
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
        denyWrite(ctx, actor, input.patientId, 'records.delete');
      }
      if (!mayChangeAsAuthor(target.resource, session.user.userId)) denyWrite(ctx, actor, input.patientId, 'records.delete');
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
