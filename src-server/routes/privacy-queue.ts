/** The privacy officer's clinic-wide review queue: list, one episode with its reads, its FHIR AuditEvent export, dispositions. */
import type { FastifyInstance } from 'fastify';
import { ROUTES, ReviewSubjectSchema } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { toAuditEvent } from '../services/fhir-audit';
import { addDisposition, episodeAuditRows, episodeReads, reviewItem, reviewQueue } from '../services/review-queue';
import { writeAudit } from '../services/server-audit';

export function privacyQueueRoutes(ctx: ServerContext) {
  const officer = { roles: ['privacy_officer'] as const };
  /** Reading the queue shows justifications and who accessed whom: every read is audited. */
  const audited = (type: string, userId: string, deviceId: string, correlationId: string, patientId: string | null = null, detail?: Record<string, string | number>) =>
    writeAudit(ctx.db, { type, action: 'R', outcome: 'success', severity: 'info', userId, deviceId, patientId, correlationId, detail });
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.reviewQueue, async ({ query, principal, correlationId }) => {
      const items = await reviewQueue(ctx, query.open === 'true');
      await audited('review-queue-list', principal.userId, principal.deviceId, correlationId, null, { items: items.length });
      return { items };
    }, officer);

    defineRoute(app, ctx, ROUTES.reviewEpisode, async ({ params, principal, correlationId }) => {
      const item = await reviewItem(ctx, ReviewSubjectSchema.parse(params.subject), params.id!);
      const reads = await episodeReads(ctx.db, item, ctx.now());
      await audited('review-episode-read', principal.userId, principal.deviceId, correlationId, item.patientId, { subject: item.subject, subjectId: item.id });
      return { item, reads };
    }, officer);

    defineRoute(app, ctx, ROUTES.reviewEpisodeFhir, async ({ params, principal, correlationId }) => {
      const item = await reviewItem(ctx, ReviewSubjectSchema.parse(params.subject), params.id!);
      await audited('audit-export', principal.userId, principal.deviceId, correlationId, item.patientId, { subject: item.subject, subjectId: item.id });
      const rows = await episodeAuditRows(ctx, item);
      return { resourceType: 'Bundle' as const, type: 'collection' as const, entry: rows.map((r) => ({ resource: toAuditEvent(r) })) };
    }, officer);

    defineRoute(app, ctx, ROUTES.addDisposition, async ({ body, principal, correlationId }) => addDisposition(ctx, principal, body, correlationId), officer);
  };
}
