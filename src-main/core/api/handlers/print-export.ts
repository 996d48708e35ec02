/** print.chart / export.chart: what leaves the screen is audited (type print/export, every record id). */
import { randomUUID } from 'node:crypto';
import { hasCapability, rolesMayEver, type Role } from '../../../../src-shared/access';
import type { HandlerTable } from '../handler';
import type { ApiContext } from '../context';
import { notFound } from '../errors';
import { patientResource, readableRecords, refOf, toRecordView } from './chart-view';

const mayPrintOrExport = (roles: readonly Role[]) => hasCapability(roles, 'chart:print-export') && rolesMayEver(roles, 'r', ['Patient']);

function chartFor(ctx: ApiContext, roles: readonly Role[], patientId: string, recordIds?: readonly string[]) {
  const p = ctx.vault.patients.getById(patientId);
  if (!p) throw notFound('patient');
  return { patient: patientResource(p), records: readableRecords(ctx.vault, roles, patientId, recordIds ? { ids: recordIds } : {}) };
}

export const printExportHandlers: Pick<HandlerTable, 'print.chart' | 'export.chart'> = {
  'print.chart': {
    allow: mayPrintOrExport,
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const { patient, records } = chartFor(ctx, session.user.roles, input.patientId, input.recordIds);
      ctx.audit.record(actor, { type: 'print', patientId: input.patientId, resourceRefs: [`Patient/${input.patientId}`, ...records.map(refOf)] });
      return { jobId: randomUUID(), patientId: input.patientId, patient, records: records.map(toRecordView) };
    },
  },
  'export.chart': {
    allow: mayPrintOrExport,
    patient: 'required',
    run(ctx, { input, session, actor }) {
      const { patient, records } = chartFor(ctx, session.user.roles, input.patientId, input.recordIds);
      ctx.audit.record(actor, { type: 'export', patientId: input.patientId, resourceRefs: [`Patient/${input.patientId}`, ...records.map(refOf)] });
      return {
        patientId: input.patientId,
        bundle: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient }, ...records.map((r) => ({ resource: r.resource }))] },
      };
    },
  },
};
