/** patients.search and patients.open: every patient returned or opened is an audited PHI read. */
import { isAccessible, rolesMayEver } from '../../../../src-shared/access';
import type { PatientSummary } from '../../../../src-shared/api';
import type { HandlerTable } from '../handler';
import { accessTo } from '../guard';
import { notFound } from '../errors';
import { patientResource, readableRecords, refOf, toRecordView } from './chart-view';

export const patientHandlers: Pick<HandlerTable, 'patients.search' | 'patients.open'> = {
  'patients.search': {
    allow: (roles) => rolesMayEver(roles, 's', ['Patient']),
    patient: false,
    run(ctx, { input, session, actor }) {
      const rows = ctx.vault.patients.search({
        ...(input.name ? { name: input.name } : {}),
        ...(input.mrn ? { mrn: input.mrn } : {}),
        ...(input.birthDate ? { birthDate: input.birthDate } : {}),
        limit: input.limit,
      });
      const results: PatientSummary[] = rows.map((p) => {
        const access = accessTo(ctx, session, p.id);
        // A restricted record outside the user's access shows only that it exists (and its MRN,
        // which the user typed or must match), so break-glass can be asked for it.
        const hidden = access === 'restricted';
        return {
          id: p.id,
          mrn: p.mrn,
          family: hidden ? null : p.familyName,
          given: hidden ? [] : p.givenNames.split(' ').filter(Boolean),
          birthDate: hidden ? null : p.birthDate,
          gender: hidden ? null : p.gender,
          access,
        };
      });
      ctx.audit.searchResults(actor, results.map((r) => r.id));
      return results;
    },
  },
  'patients.open': {
    allow: (roles) => rolesMayEver(roles, 'r', ['Patient']),
    patient: 'required',
    run(ctx, { input, session, actor, access }) {
      const p = ctx.vault.patients.getById(input.patientId);
      if (!p) throw notFound('patient');
      const records = readableRecords(ctx.vault, session.user.roles, p.id);
      ctx.audit.record(actor, { type: 'read', patientId: p.id, resourceRefs: [`Patient/${p.id}`, ...records.map(refOf)] });
      return { patient: patientResource(p), access: access && isAccessible(access) ? access : 'none', records: records.map(toRecordView) };
    },
  },
};
