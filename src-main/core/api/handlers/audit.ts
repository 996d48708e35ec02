/** audit.*: the privacy officer reads and verifies this workstation's audit log (ids and codes only). */
import { hasCapability } from '../../../../src-shared/access';
import type { AuditEntryView } from '../../../../src-shared/api';
import type { AuditEntry } from '../../../../src-shared/audit';
import type { HandlerTable } from '../handler';

function view(e: AuditEntry): AuditEntryView {
  return {
    seq: e.seq,
    at: Date.parse(e.at),
    action: e.action,
    type: e.type,
    outcome: e.outcome,
    severity: e.severity,
    userId: e.userId,
    role: e.role,
    patientId: e.patientId ?? null,
    entity: e.resourceRefs?.join(' ') || null,
    correlationId: e.correlationId,
  };
}

export const auditHandlers: Pick<HandlerTable, 'audit.list' | 'audit.verify'> = {
  'audit.list': {
    allow: (roles) => hasCapability(roles, 'audit:read'),
    patient: false,
    run(ctx, { input }) {
      const out: AuditEntryView[] = [];
      let after = input.afterSeq;
      // Filters apply after reading, so page through until the page is full or the log ends.
      for (;;) {
        const page = ctx.vault.audit.list({ afterSeq: after, limit: 1000 });
        for (const e of page) {
          if (input.type && e.type !== input.type) continue;
          if (input.patientId && e.patientId !== input.patientId) continue;
          out.push(view(e));
          if (out.length >= input.limit) return out;
        }
        if (page.length < 1000) return out;
        after = (page[page.length - 1] as AuditEntry).seq;
      }
    },
  },
  'audit.verify': {
    allow: (roles) => hasCapability(roles, 'audit:read'),
    patient: false,
    run(ctx) {
      const v = ctx.vault.audit.verify();
      return v.ok ? { ok: true, count: v.count } : { ok: false, count: ctx.vault.audit.count(), firstBadSeq: v.seq, problem: v.problem };
    },
  },
};
