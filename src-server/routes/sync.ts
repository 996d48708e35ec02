/** Push and pull of envelopes. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { canSeePatient } from '../services/access';
import { raiseAlert } from '../services/alerts';
import { ciphertextLooksPlain, looksLikePlaintext } from '../services/plaintext';
import type { Principal } from '../services/tokens';
import { applyPush } from '../services/push';
import { writeAudit } from '../services/server-audit';
import { recordServerAccess } from '../services/access-events';
import { checkAccessRate } from '../services/rate-monitor';
import { countAfter, readPage } from '../store/record-pages';
import { visiblePatientIds } from '../store/visibility';

export function syncRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    const refused = async (plaintext: boolean, principal: Principal | undefined, correlationId: string): Promise<void> => {
      await writeAudit(ctx.db, {
        type: plaintext ? 'plaintext-refused' : 'invalid-payload', action: 'E', outcome: 'denied', severity: plaintext ? 'high' : 'medium',
        userId: principal?.userId, deviceId: principal?.deviceId, correlationId,
      });
      if (plaintext) {
        await raiseAlert(ctx.db, { kind: 'plaintext-refused', severity: 'high', userId: principal?.userId ?? null, detail: { deviceId: principal?.deviceId ?? null } });
      }
    };

    defineRoute(
      app, ctx, ROUTES.push,
      async ({ body, principal, correlationId }) => {
        if (body.mutations.some((m) => ciphertextLooksPlain(m.envelope.ct))) {
          await refused(true, principal, correlationId);
          throw new EhrError(ErrorCode.INVALID, 'Records must be sealed envelopes; plaintext is refused.');
        }
        return { results: await ctx.db.tx((sql) => applyPush(sql, principal, body.mutations, ctx.now(), correlationId)) };
      },
      { onInvalidBody: (raw, principal, correlationId) => refused(looksLikePlaintext(raw), principal, correlationId) },
    );

    defineRoute(app, ctx, ROUTES.pull, async ({ query, principal, correlationId, reply }) => {
      const now = ctx.now();
      if (query.patientId && !(await canSeePatient(ctx.db, principal.userId, query.patientId, now))) {
        await writeAudit(ctx.db, {
          type: 'access-denied', action: 'R', outcome: 'denied', severity: 'high',
          userId: principal.userId, deviceId: principal.deviceId, patientId: query.patientId, correlationId, detail: { route: 'pull' },
        });
        throw new EhrError(ErrorCode.FORBIDDEN, 'This patient is outside your care teams; use break-glass if clinically needed.', { patientId: query.patientId });
      }
      const { after, total: carried } = decodeCursor(query.cursor);
      // Who may be seen, resolved once per request with the same rule (and the same `now`) as
      // before; the page is then a keyset walk of the seq index filtered by that list — no join the
      // planner could turn into "sort everything after the cursor" on every page.
      const patients = query.patientId ? [query.patientId] : await visiblePatientIds(ctx.db, principal.userId, now);
      const page = await readPage(ctx.db, after, patients, query.limit);
      // The progress total is counted once, on the first page of a pull (a cursor without a total),
      // and carried in the cursor after that: no recount per page. A one-page pull needs no count.
      const total = carried ?? (page.hasMore ? await countAfter(ctx.db, after, patients) : page.count);
      await writeAudit(ctx.db, {
        type: 'sync-pull', action: 'R', outcome: 'success', severity: 'info', userId: principal.userId, deviceId: principal.deviceId,
        patientId: query.patientId ?? null, correlationId, detail: { records: page.count, patients: page.patients },
      });
      // A patient-scoped pull's first page is a chart being fetched: the access-rate monitor counts it (the bulk sync is not counted).
      if (query.patientId && !query.cursor && page.count > 0) {
        await recordServerAccess(ctx.db, { userId: principal.userId, patientId: query.patientId, deviceId: principal.deviceId, kind: 'chart-pull' }, now);
        await checkAccessRate(ctx.db, principal.userId, now, ctx.config.rateMonitor);
      }
      // The last page's cursor carries no total, so the next pull counts afresh.
      const nextCursor = page.lastSeq ? encodeCursor(page.lastSeq, page.hasMore ? total : null) : (query.cursor ? encodeCursor(after, null) : '');
      // Sent pre-serialised (PullResponseSchema's shape; the client validates it): the page's
      // records are already JSON text, so they are not turned into objects and back.
      const body = `{"records":[${page.recordsJson}],"nextCursor":${JSON.stringify(nextCursor)},"hasMore":${page.hasMore},"total":${total},"serverTime":${JSON.stringify(now.toISOString())}}`;
      // Encoded once, here: handed a string of megabytes, the reply measured its UTF-8 length
      // (flattening it) and then encoded it again to write it — a fifth of the server's time in an
      // initial sync.
      return reply.type('application/json; charset=utf-8').send(Buffer.from(body, 'utf8')) as never;
    });
  };
}

/**
 * Opaque to clients: "s" + the last record seq seen, and while a pull has more pages "-t" + the
 * total counted on its first page (progress only: it authorises nothing, the seq and the user's
 * access decide what is sent). "s<seq>" alone (the last page's, or an older server's) starts a
 * new count.
 */
const encodeCursor = (seq: string, total: number | null): string => (total === null ? `s${seq}` : `s${seq}-t${total}`);
function decodeCursor(cursor: string | undefined): { after: string; total: number | null } {
  if (!cursor) return { after: '0', total: null };
  const m = /^s(\d{1,18})(?:-t(\d{1,9}))?$/.exec(cursor); // bigint seq; an int4-sized total
  if (!m?.[1]) throw new EhrError(ErrorCode.INVALID, 'The pull cursor is not valid; start again without one.');
  return { after: m[1], total: m[2] === undefined ? null : Number(m[2]) };
}
