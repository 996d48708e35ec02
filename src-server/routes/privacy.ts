/** Privacy-officer API: audit query (JSON or FHIR AuditEvent), alerts, break-glass review. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type Alert } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { openText, sealText } from '../keys/sealed';
import { toAuditEvent } from '../services/fhir-audit';
import { justificationAad, reviewAad } from '../services/note-aads';
import { listOfflineGrants } from '../services/offline-grants';
import { writeAudit } from '../services/server-audit';
import * as alerts from '../store/alerts';
import * as auditTrail from '../store/audit-trail';
import * as grants from '../store/grants';

const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);
const LIST_LIMIT = 500;

export function privacyRoutes(ctx: ServerContext) {
  const officer = { roles: ['privacy_officer', 'admin'] as const };
  const toAlert = (a: alerts.AlertRow): Alert => ({
    id: a.id, kind: a.kind, severity: a.severity, userId: a.user_id, patientId: a.patient_id, detail: a.detail,
    createdAt: iso(a.created_at)!, acknowledgedAt: iso(a.acknowledged_at), acknowledgedBy: a.acknowledged_by,
    note: a.note_sealed ? openText(ctx.notesKey, a.note_sealed, reviewAad(a.id)) : null,
  });
  /** The reviewer's note is sealed at rest (it may quote clinical context), bound to the row it reviews. */
  const sealNote = (id: string, note: string): string => sealText(ctx.notesKey, note, reviewAad(id));
  const audited = (type: string, userId: string, correlationId: string, detail?: Record<string, string | number>) =>
    writeAudit(ctx.db, { type, action: 'R', outcome: 'success', severity: 'info', userId, correlationId, detail });

  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.auditQuery, async ({ query, principal, correlationId }) => {
      await audited('audit-query', principal.userId, correlationId);
      return { rows: await auditTrail.search(ctx.db, query) };
    }, officer);

    defineRoute(app, ctx, ROUTES.auditExport, async ({ query, principal, correlationId }) => {
      await audited('audit-export', principal.userId, correlationId);
      const rows = await auditTrail.search(ctx.db, query);
      return { resourceType: 'Bundle' as const, type: 'collection' as const, entry: rows.map((r) => ({ resource: toAuditEvent(r) })) };
    }, officer);

    defineRoute(app, ctx, ROUTES.listAlerts, async ({ query }) => ({
      alerts: (await alerts.list(ctx.db, { open: query.open === 'true', limit: LIST_LIMIT })).map(toAlert),
    }), officer);

    defineRoute(app, ctx, ROUTES.ackAlert, async ({ body, params, principal, correlationId }) => {
      const id = params.alertId!;
      const row = await alerts.acknowledge(ctx.db, id, principal.userId, sealNote(id, body.note));
      if (!row) throw new EhrError(ErrorCode.NOT_FOUND, 'No such alert.', { alertId: id });
      await writeAudit(ctx.db, { type: 'alert-acknowledged', action: 'U', outcome: 'success', severity: 'info', userId: principal.userId, correlationId, detail: { alertId: id } });
      return toAlert(row);
    }, officer);

    const toReview = (g: grants.GrantRow) => ({
      id: g.id, patientId: g.patient_id, userId: g.user_id, reason: g.reason,
      justification: openText(ctx.notesKey, g.justification_sealed, justificationAad(g.id)),
      startsAt: iso(g.starts_at)!, expiresAt: iso(g.expires_at)!, reviewedAt: iso(g.reviewed_at), reviewedBy: g.reviewed_by,
      reviewNote: g.review_note_sealed ? openText(ctx.notesKey, g.review_note_sealed, reviewAad(g.id)) : null,
    });

    defineRoute(app, ctx, ROUTES.listBreakGlass, async ({ principal, correlationId }) => {
      await audited('break-glass-list', principal.userId, correlationId);
      return {
        grants: (await grants.newest(ctx.db, LIST_LIMIT)).map(toReview),
        offline: await listOfflineGrants(ctx),
      };
    }, { roles: ['privacy_officer'] });

    defineRoute(app, ctx, ROUTES.reviewBreakGlass, async ({ body, params, principal, correlationId }) => {
      const id = params.grantId!;
      const row = await grants.review(ctx.db, id, principal.userId, sealNote(id, body.note));
      if (!row) throw new EhrError(ErrorCode.NOT_FOUND, 'No such break-glass grant.', { grantId: id });
      await writeAudit(ctx.db, { type: 'break-glass-reviewed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, patientId: row.patient_id, correlationId, detail: { grantId: id } });
      return toReview(row);
    }, { roles: ['privacy_officer'] });
  };
}
