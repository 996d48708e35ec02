/** sync.*: status and conflicts of the sync engine; resolving a conflict is a write to that chart. */
import { isAccessible, rolesMayEver } from '../../../../src-shared/access';
import { RECORD_TYPES, type ConflictSide, type ConflictSummary, type SyncStatus } from '../../../../src-shared/api';
import type { AuditActor } from '../../audit';
import type { ApiContext } from '../context';
import type { HandlerTable } from '../handler';
import { accessTo, ensurePatientAccess } from '../guard';
import { notFound } from '../errors';
import { refreshCareTeam } from './auth';

const disabled = (ctx: ApiContext): SyncStatus => ({
  state: 'disabled',
  pendingMutations: ctx.vault.outbox.count(),
  conflicts: ctx.vault.resources.listByStatus('conflict', 1000).length,
  lastSyncAt: null,
  message: 'No sync server is configured on this workstation.',
});

const anySession = (): boolean => true;

const sideOf = (s: ConflictSide): ConflictSide => ({ resource: s.resource, version: s.version, authorUserId: s.authorUserId, deviceId: s.deviceId, at: s.at });

/** Exactly the contract's shape (both versions with author, device, time), nothing the engine adds beyond it. */
function toSummary(c: ConflictSummary): ConflictSummary {
  return {
    conflictId: c.conflictId,
    patientId: c.patientId,
    recordId: c.recordId,
    resourceType: c.resourceType,
    localVersion: c.localVersion,
    serverVersion: c.serverVersion,
    mine: sideOf(c.mine),
    theirs: sideOf(c.theirs),
  };
}

/** The wire protocol's limit on references per audit entry (src-shared/sync/audit.ts). */
const REFS_PER_ENTRY = 100;

/**
 * Each conflict returned carries both versions of a clinical record: a read of that chart. One
 * entry per patient (IHE BALP: one patient per AuditEvent), naming every record shown (both sides
 * are versions of it); a patient with more conflicts than one entry may name gets several.
 */
function auditConflictReads(ctx: ApiContext, actor: AuditActor, shown: readonly ConflictSummary[]): void {
  const byPatient = new Map<string, Set<string>>();
  for (const c of shown) {
    const refs = byPatient.get(c.patientId) ?? new Set<string>();
    refs.add(`${c.resourceType}/${c.recordId}`);
    byPatient.set(c.patientId, refs);
  }
  for (const [patientId, refs] of byPatient) {
    const all = [...refs];
    for (let i = 0; i < all.length; i += REFS_PER_ENTRY) {
      ctx.audit.record(actor, { type: 'read', patientId, resourceRefs: all.slice(i, i + REFS_PER_ENTRY), reasonCode: 'conflict' });
    }
  }
}

export const syncHandlers: Pick<HandlerTable, 'sync.status' | 'sync.now' | 'sync.conflicts' | 'sync.resolve'> = {
  'sync.status': {
    allow: anySession,
    patient: false,
    run: (ctx) => (ctx.sync ? ctx.sync.status() : disabled(ctx)),
  },
  'sync.now': {
    allow: anySession,
    patient: false,
    async run(ctx) {
      const status = ctx.sync ? await ctx.sync.syncNow() : disabled(ctx);
      await refreshCareTeam(ctx);
      return status;
    },
  },
  'sync.conflicts': {
    allow: (roles) => rolesMayEver(roles, 'u', RECORD_TYPES),
    patient: false,
    run(ctx, { session, actor }) {
      // Only conflicts in charts the user may open (ids only, but still a hint about a patient).
      const all = ctx.sync ? ctx.sync.conflicts() : [];
      const shown = all.filter((c) => isAccessible(accessTo(ctx, session, c.patientId))).map(toSummary);
      auditConflictReads(ctx, actor, shown);
      return shown;
    },
  },
  'sync.resolve': {
    allow: (roles) => rolesMayEver(roles, 'u', RECORD_TYPES),
    patient: false,
    async run(ctx, { input, session, actor }) {
      const conflict = ctx.sync?.conflicts().find((c) => c.conflictId === input.conflictId);
      if (!ctx.sync || !conflict) throw notFound('conflict');
      ensurePatientAccess(ctx, session, actor, conflict.patientId);
      const status = await ctx.sync.resolveConflict(input.conflictId, input.choice);
      ctx.audit.record(actor, { type: 'conflict-resolved', patientId: conflict.patientId, resourceRefs: [`${conflict.resourceType}/${conflict.recordId}`], reasonCode: input.choice });
      return status;
    },
  },
};
