/** Privacy-officer API: audit query (JSON or FHIR AuditEvent), alerts, break-glass review. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type Alert, type AuditQuerySchema, type AuditRow, type OfflineBreakGlassReview } from '../../src-shared/sync';
import type { z } from 'zod';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { toAuditEvent } from '../services/fhir-audit';
import { writeAudit } from '../services/server-audit';
import { openText, sealText } from '../keys/sealed';
import { deviceJustificationAad } from '../services/offline-justification';
import { justificationAad } from './break-glass';

const reviewAad = (id: string): string => `review|${id}`;
const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);

type Query = z.output<typeof AuditQuerySchema>;

/** The audit query of the privacy routes; `extra` narrows to one type and one detail.subjectId (the review queue's export). */
export async function queryAudit(ctx: ServerContext, q: Query, extra: { type?: string; subjectId?: string } = {}): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: string) => string, v: unknown) => {
    params.push(v);
    where.push(clause(`$${params.length}`));
  };
  if (q.patientId) add((n) => `patient_id = ${n}`, q.patientId);
  if (q.userId) add((n) => `user_id = ${n}`, q.userId);
  if (q.from) add((n) => `at >= ${n}`, new Date(q.from));
  if (q.to) add((n) => `at < ${n}`, new Date(q.to));
  if (extra.type) add((n) => `type = ${n}`, extra.type);
  if (extra.subjectId) add((n) => `detail->>'subjectId' = ${n}`, extra.subjectId);
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const parts: string[] = [];
  if (q.source !== 'device') {
    parts.push(`SELECT 'server' AS source, id::text AS id, at, device_id, user_id, patient_id, type, action, outcome, severity, correlation_id, detail FROM server_audit ${cond}`);
  }
  if (q.source !== 'server') {
    parts.push(`SELECT 'device' AS source, device_id || ':' || seq::text AS id, at, device_id, user_id, patient_id, type, action, outcome, severity, correlation_id,
                jsonb_build_object('seq', seq, 'hash', hash) AS detail FROM device_audit ${cond}`);
  }
  const rows = await ctx.db.query<{
    source: 'server' | 'device'; id: string; at: Date; device_id: string | null; user_id: string | null; patient_id: string | null;
    type: string; action: AuditRow['action']; outcome: string; severity: string; correlation_id: string | null; detail: AuditRow['detail'];
  }>(`${parts.join(' UNION ALL ')} ORDER BY at DESC, id DESC LIMIT $${params.length + 1}`, [...params, q.limit]);
  return rows.map((r) => ({
    source: r.source, id: r.id, at: new Date(r.at).toISOString(), deviceId: r.device_id, userId: r.user_id, patientId: r.patient_id,
    type: r.type, action: r.action, outcome: r.outcome, severity: r.severity, correlationId: r.correlation_id, detail: r.detail ?? null,
  }));
}

interface AlertRow {
  id: string; kind: Alert['kind']; severity: Alert['severity']; user_id: string | null; patient_id: string | null;
  detail: Alert['detail']; created_at: Date; acknowledged_at: Date | null; acknowledged_by: string | null; note_sealed: string | null;
}

/**
 * Offline grants: every device-raised break-glass alert, with the justification the workstation
 * delivered afterwards (null while it has not arrived), plus delivered justifications whose entry
 * ingest matched to an online grant (no alert of their own). Reviewed through the alert's ack.
 */
interface OfflineRow {
  alert_id: string | null; severity: 'medium' | 'high' | null; user_id: string | null; patient_id: string | null;
  detail: Alert['detail'] | null; acknowledged_at: Date | null; acknowledged_by: string | null; note_sealed: string | null;
  j_device_id: string | null; j_seq: string | number | null; j_reason: string | null; j_correlation_id: string | null;
  justification_sealed: string | null; received_at: Date | null; entry_at: Date | null;
}
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const toOffline = (ctx: ServerContext, r: OfflineRow): OfflineBreakGlassReview => {
  const d = r.detail ?? {};
  const deviceId = r.j_device_id ?? str(d.deviceId) ?? '';
  const seq = Number(r.j_seq ?? d.seq ?? 0);
  return {
    alertId: r.alert_id, deviceId, seq, correlationId: str(d.correlationId) ?? r.j_correlation_id,
    patientId: r.patient_id, userId: r.user_id, reason: str(d.reason) ?? r.j_reason ?? 'unknown', severity: r.severity,
    justification: r.justification_sealed ? openText(ctx.notesKey, r.justification_sealed, deviceJustificationAad(deviceId, seq)) : null,
    justificationReceivedAt: iso(r.received_at), startedAt: str(d.startedAt) ?? iso(r.entry_at), endedAt: str(d.endedAt),
    reviewedAt: iso(r.acknowledged_at), reviewedBy: r.acknowledged_by,
    reviewNote: r.note_sealed && r.alert_id ? openText(ctx.notesKey, r.note_sealed, reviewAad(r.alert_id)) : null,
  };
};
export const listOfflineGrants = async (ctx: ServerContext): Promise<OfflineBreakGlassReview[]> => {
  const alerted = await ctx.db.query<OfflineRow>(
    `SELECT a.id AS alert_id, a.severity, a.user_id, a.patient_id, a.detail, a.acknowledged_at, a.acknowledged_by, a.note_sealed,
            j.device_id AS j_device_id, j.seq AS j_seq, j.reason AS j_reason, j.correlation_id AS j_correlation_id,
            j.justification_sealed, j.received_at, NULL::timestamptz AS entry_at
       FROM alerts a
       LEFT JOIN device_break_glass_justifications j ON j.device_id = a.detail->>'deviceId' AND j.seq::text = a.detail->>'seq'
      WHERE a.kind = 'break-glass' AND a.detail->>'source' = 'device'
      ORDER BY a.created_at DESC, a.id DESC LIMIT 500`,
  );
  const unalerted = await ctx.db.query<OfflineRow>(
    `SELECT NULL AS alert_id, NULL AS severity, j.user_id, j.patient_id, NULL::jsonb AS detail, NULL::timestamptz AS acknowledged_at,
            NULL AS acknowledged_by, NULL AS note_sealed, j.device_id AS j_device_id, j.seq AS j_seq, j.reason AS j_reason,
            j.correlation_id AS j_correlation_id, j.justification_sealed, j.received_at, d.at AS entry_at
       FROM device_break_glass_justifications j
       LEFT JOIN device_audit d ON d.device_id = j.device_id AND d.seq = j.seq
      WHERE j.alert_id IS NULL ORDER BY j.received_at DESC LIMIT 500`,
  );
  return [...alerted, ...unalerted].map((r) => toOffline(ctx, r));
};

export function privacyRoutes(ctx: ServerContext) {
  const officer = { roles: ['privacy_officer', 'admin'] as const };
  const toAlert = (a: AlertRow): Alert => ({
    id: a.id, kind: a.kind, severity: a.severity, userId: a.user_id, patientId: a.patient_id, detail: a.detail,
    createdAt: iso(a.created_at)!, acknowledgedAt: iso(a.acknowledged_at), acknowledgedBy: a.acknowledged_by,
    note: a.note_sealed ? openText(ctx.notesKey, a.note_sealed, reviewAad(a.id)) : null,
  });
  /** Who reviewed, when, and the note — sealed at rest (it may quote clinical context). */
  const REVIEW_COLUMNS = {
    alerts: ['acknowledged_at', 'acknowledged_by', 'note_sealed'],
    break_glass_grants: ['reviewed_at', 'reviewed_by', 'review_note_sealed'],
  } as const;
  const markReviewed = async <T>(table: keyof typeof REVIEW_COLUMNS, id: string, reviewer: string, note: string): Promise<T | undefined> => {
    const [at, by, sealed] = REVIEW_COLUMNS[table];
    const rows = await ctx.db.query<T>(`UPDATE ${table} SET ${at} = now(), ${by} = $2, ${sealed} = $3 WHERE id = $1 RETURNING *`, [
      id, reviewer, sealText(ctx.notesKey, note, reviewAad(id)),
    ]);
    return rows[0];
  };
  const audited = (type: string, userId: string, correlationId: string, detail?: Record<string, string | number>) =>
    writeAudit(ctx.db, { type, action: 'R', outcome: 'success', severity: 'info', userId, correlationId, detail });

  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.auditQuery, async ({ query, principal, correlationId }) => {
      await audited('audit-query', principal.userId, correlationId);
      return { rows: await queryAudit(ctx, query) };
    }, officer);

    defineRoute(app, ctx, ROUTES.auditExport, async ({ query, principal, correlationId }) => {
      await audited('audit-export', principal.userId, correlationId);
      const rows = await queryAudit(ctx, query);
      return { resourceType: 'Bundle' as const, type: 'collection' as const, entry: rows.map((r) => ({ resource: toAuditEvent(r) })) };
    }, officer);

    defineRoute(app, ctx, ROUTES.listAlerts, async ({ query }) => {
      const open = query.open === 'true' ? 'WHERE acknowledged_at IS NULL' : '';
      return { alerts: (await ctx.db.query<AlertRow>(`SELECT * FROM alerts ${open} ORDER BY created_at DESC LIMIT 500`)).map(toAlert) };
    }, officer);

    defineRoute(app, ctx, ROUTES.ackAlert, async ({ body, params, principal, correlationId }) => {
      const id = params.alertId!;
      const row = await markReviewed<AlertRow>('alerts', id, principal.userId, body.note);
      if (!row) throw new EhrError(ErrorCode.NOT_FOUND, 'No such alert.', { alertId: id });
      await writeAudit(ctx.db, { type: 'alert-acknowledged', action: 'U', outcome: 'success', severity: 'info', userId: principal.userId, correlationId, detail: { alertId: id } });
      return toAlert(row);
    }, officer);

    interface GrantRow {
      id: string; user_id: string; patient_id: string; reason: string; justification_sealed: string; starts_at: Date; expires_at: Date;
      reviewed_at: Date | null; reviewed_by: string | null; review_note_sealed: string | null;
    }
    const toReview = (g: GrantRow) => ({
      id: g.id, patientId: g.patient_id, userId: g.user_id, reason: g.reason,
      justification: openText(ctx.notesKey, g.justification_sealed, justificationAad(g.id)),
      startsAt: iso(g.starts_at)!, expiresAt: iso(g.expires_at)!, reviewedAt: iso(g.reviewed_at), reviewedBy: g.reviewed_by,
      reviewNote: g.review_note_sealed ? openText(ctx.notesKey, g.review_note_sealed, reviewAad(g.id)) : null,
    });

    defineRoute(app, ctx, ROUTES.listBreakGlass, async ({ principal, correlationId }) => {
      await audited('break-glass-list', principal.userId, correlationId);
      return {
        grants: (await ctx.db.query<GrantRow>('SELECT * FROM break_glass_grants ORDER BY starts_at DESC LIMIT 500')).map(toReview),
        offline: await listOfflineGrants(ctx),
      };
    }, { roles: ['privacy_officer'] });

    defineRoute(app, ctx, ROUTES.reviewBreakGlass, async ({ body, params, principal, correlationId }) => {
      const id = params.grantId!;
      const row = await markReviewed<GrantRow>('break_glass_grants', id, principal.userId, body.note);
      if (!row) throw new EhrError(ErrorCode.NOT_FOUND, 'No such break-glass grant.', { grantId: id });
      await writeAudit(ctx.db, { type: 'break-glass-reviewed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, patientId: row.patient_id, correlationId, detail: { grantId: id } });
      return toReview(row);
    }, { roles: ['privacy_officer'] });
  };
}
