/** Push and pull of envelopes. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { VISIBLE_PATIENTS_SQL, canSeePatient } from '../services/access';
import { raiseAlert } from '../services/alerts';
import { ciphertextLooksPlain, looksLikePlaintext } from '../services/plaintext';
import type { Principal } from '../services/tokens';
import { RECORD_COLUMNS, applyPush, rowToEnvelope, rowToMeta, type RecordRow } from '../services/push';
import { writeAudit } from '../services/server-audit';

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

    defineRoute(app, ctx, ROUTES.pull, async ({ query, principal, correlationId }) => {
      const now = ctx.now();
      if (query.patientId && !(await canSeePatient(ctx.db, principal.userId, query.patientId, now))) {
        await writeAudit(ctx.db, {
          type: 'access-denied', action: 'R', outcome: 'denied', severity: 'high',
          userId: principal.userId, deviceId: principal.deviceId, patientId: query.patientId, correlationId, detail: { route: 'pull' },
        });
        throw new EhrError(ErrorCode.FORBIDDEN, 'This patient is outside your care teams; use break-glass if clinically needed.', { patientId: query.patientId });
      }
      const after = query.cursor ? decodeCursor(query.cursor) : '0';
      const filter = query.patientId ? 'AND r.patient_id = $4' : '';
      const params: unknown[] = [principal.userId, now, after];
      if (query.patientId) params.push(query.patientId);
      const rows = await ctx.db.query<RecordRow & { cursor_seq: string }>(
        `SELECT ${RECORD_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}, r.seq::text AS cursor_seq FROM records r
          WHERE r.seq > $3::bigint AND r.patient_id IN (${VISIBLE_PATIENTS_SQL}) ${filter}
          ORDER BY r.seq LIMIT $${params.length + 1}`,
        [...params, query.limit + 1],
      );
      const totalRows = await ctx.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM records r WHERE r.patient_id IN (${VISIBLE_PATIENTS_SQL}) ${filter.replace('$4', '$3')}`,
        query.patientId ? [principal.userId, now, query.patientId] : [principal.userId, now],
      );
      const hasMore = rows.length > query.limit;
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      await writeAudit(ctx.db, {
        type: 'sync-pull', action: 'R', outcome: 'success', severity: 'info', userId: principal.userId, deviceId: principal.deviceId,
        patientId: query.patientId ?? null, correlationId, detail: { records: page.length, patients: new Set(page.map((r) => r.patient_id)).size },
      });
      return {
        records: page.map((r) => ({ envelope: rowToEnvelope(r), meta: rowToMeta(r) })),
        nextCursor: last ? encodeCursor(last.cursor_seq) : (query.cursor ?? ''),
        hasMore,
        total: totalRows[0]?.n ?? 0,
      };
    });
  };
}

/** Opaque to clients: "s" + the last record seq seen. */
const encodeCursor = (seq: string): string => `s${seq}`;
function decodeCursor(cursor: string): string {
  const m = /^s(\d{1,18})$/.exec(cursor);
  if (!m?.[1]) throw new EhrError(ErrorCode.INVALID, 'The pull cursor is not valid; start again without one.');
  return m[1];
}
