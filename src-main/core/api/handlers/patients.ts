/**
 * patients.search, patients.mine and patients.open: every patient returned or opened is an audited
 * PHI read (search and "my patients": one `search` entry per patient returned, IHE BALP).
 */
import { isAccessible, rolesMayEver, type PatientAccess } from '../../../../src-shared/access';
import type { PatientSummary } from '../../../../src-shared/api';
import type { UserSession } from '../../session';
import type { ApiContext } from '../context';
import type { HandlerTable } from '../handler';
import { accessTo } from '../guard';
import { notFound } from '../errors';
import type { PatientRecord } from '../../vault';
import { chartRecords, patientResource, refOf, toRecordView } from './chart-view';

/** The summary search and "my patients" return; a restricted record outside access shows only that it exists. */
function summaryOf(p: PatientRecord, access: PatientAccess): PatientSummary {
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
}

/**
 * The care-team patients of the session's snapshot that are on this workstation and accessible
 * now. A restricted patient (by the snapshot or the vault's flag) counts only while a server grant
 * or an unexpired break-glass covers it: being on the care team is not enough for "my patients".
 */
function myPatients(ctx: ApiContext, session: UserSession): PatientSummary[] {
  const snapshot = session.careTeam;
  const out: PatientSummary[] = [];
  for (const id of new Set(snapshot.careTeam)) {
    const p = ctx.vault.patients.getById(id);
    if (!p) continue; // not synced to this workstation (yet)
    const access = accessTo(ctx, session, id);
    if (!isAccessible(access)) continue;
    const restricted = p.restricted || snapshot.restricted.includes(id);
    if (restricted && !snapshot.grants.includes(id) && ctx.sessions.activeBreakGlass(session, id) === null) continue;
    out.push(summaryOf(p, access));
  }
  const key = (s: PatientSummary) => `${(s.family ?? '').toLocaleLowerCase()}\u0000${s.given.join(' ').toLocaleLowerCase()}\u0000${s.id}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export const patientHandlers: Pick<HandlerTable, 'patients.search' | 'patients.mine' | 'patients.open'> = {
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
      const results = rows.map((p) => summaryOf(p, accessTo(ctx, session, p.id)));
      ctx.audit.searchResults(actor, results.map((r) => r.id));
      return results;
    },
  },
  'patients.mine': {
    allow: (roles) => rolesMayEver(roles, 's', ['Patient']),
    patient: false,
    run(ctx, { input, session, actor }) {
      const all = myPatients(ctx, session);
      const patients = all.slice(input.offset, input.offset + input.limit);
      // Audited like a search: one entry per patient returned (an empty page leaves one entry too).
      ctx.audit.searchResults(actor, patients.map((p) => p.id));
      const next = input.offset + patients.length;
      return { patients, nextOffset: next < all.length ? next : null };
    },
  },
  'patients.open': {
    allow: (roles) => rolesMayEver(roles, 'r', ['Patient']),
    patient: 'required',
    run(ctx, { input, session, actor, access }) {
      const p = ctx.vault.patients.getById(input.patientId);
      if (!p) throw notFound('patient');
      // Every record returned is in the read's audit entries (split by the writer when there are many).
      const { records, paging } = chartRecords(ctx.vault, session.user.roles, p.id);
      const refs = [`Patient/${p.id}`, ...records.filter((r) => r.id !== p.id || r.resourceType !== 'Patient').map(refOf)];
      ctx.audit.record(actor, { type: 'read', patientId: p.id, resourceRefs: refs });
      return { patient: patientResource(p), access: access && isAccessible(access) ? access : 'none', records: records.map(toRecordView), paging };
    },
  },
};
