/** Push and pull of envelopes. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import type { Db, Sql } from '../db/db';
import { VISIBLE_PATIENTS_SQL, canSeePatient } from '../services/access';
import { raiseAlert } from '../services/alerts';
import { ciphertextLooksPlain, looksLikePlaintext } from '../services/plaintext';
import type { Principal } from '../services/tokens';
import { RECORD_COLUMNS, applyPush, type RecordRow } from '../services/push';
import { writeAudit } from '../services/server-audit';
import { recordServerAccess } from '../services/access-events';
import { checkAccessRate } from '../services/rate-monitor';

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
      const total = carried ?? (page.hasMore ? await countVisibleAfter(ctx.db, after, patients) : page.count);
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
      return reply.type('application/json; charset=utf-8').send(body) as never;
    });
  };
}

const PULL_COLUMNS = RECORD_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ');

async function visiblePatientIds(sql: Sql, userId: string, now: Date): Promise<string[]> {
  return (await sql.query<{ patient_id: string }>(`SELECT v.patient_id FROM (${VISIBLE_PATIENTS_SQL}) v`, [userId, now])).map((r) => r.patient_id);
}

interface PulledPage {
  /** The records as JSON text, comma-separated ({envelope, meta} each, as PulledRecordSchema). */
  recordsJson: string;
  count: number;
  patients: number;
  lastSeq: string | null;
  hasMore: boolean;
}

/** meta.at as rowToMeta writes it (ISO 8601, milliseconds, UTC). */
const AT_SQL = `to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RECORD_JSON_SQL = `json_build_object(
  'envelope', json_build_object('v', 1, 'recordId', r.record_id, 'patientId', r.patient_id, 'resourceType', r.resource_type,
    'version', r.version, 'keyId', r.key_id, 'nonce', r.nonce, 'ct', r.ct, 'tag', r.tag),
  'meta', json_build_object('authorUserId', r.author_user_id, 'deviceId', r.device_id, 'at', ${AT_SQL}, 'deleted', r.deleted))::text`;

/**
 * One page of records of the given patients after seq `after`, in seq order (limit + 1 read to
 * know whether more follow). Embedded PGlite hands every column of every row across its WASM
 * boundary one by one, so there the database writes the page's JSON and hands over one text;
 * PostgreSQL's driver decodes rows cheaply in this process, so there the rows are serialised here.
 */
async function readPage(sql: Db, after: string, patients: string[], limit: number): Promise<PulledPage> {
  if (patients.length === 0) return { recordsJson: '', count: 0, patients: 0, lastSeq: null, hasMore: false };
  const where = 'r.seq > $1::bigint AND r.patient_id = ANY($2::text[])';
  if (sql.kind === 'pglite') {
    const rows = await sql.query<{ has_more: boolean; body: string | null; last_seq: string | null; n: number; patients: number }>(
      `WITH page AS (SELECT r.seq, r.patient_id, ${RECORD_JSON_SQL} AS j FROM records r WHERE ${where} ORDER BY r.seq LIMIT $3::int + 1),
            firstn AS (SELECT * FROM page ORDER BY seq LIMIT $3::int)
       SELECT (SELECT count(*) FROM page) > $3::int AS has_more, string_agg(j, ',' ORDER BY seq) AS body, max(seq)::text AS last_seq,
              count(*)::int AS n, count(DISTINCT patient_id)::int AS patients FROM firstn`,
      [after, patients, limit],
    );
    const r = rows[0];
    return { recordsJson: r?.body ?? '', count: r?.n ?? 0, patients: r?.patients ?? 0, lastSeq: r?.last_seq ?? null, hasMore: r?.has_more ?? false };
  }
  const rows = await sql.query<PulledRow>(
    `SELECT ${PULL_COLUMNS_TEXT_AT}, r.seq::text AS cursor_seq FROM records r WHERE ${where} ORDER BY r.seq LIMIT $3::int + 1`,
    [after, patients, limit],
  );
  const hasMore = rows.length > limit;
  const n = hasMore ? limit : rows.length;
  const seen = new Set<string>();
  let json = '';
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    seen.add(r.patient_id);
    json += (i ? ',' : '') + recordJson(r);
  }
  return { recordsJson: json, count: n, patients: seen.size, lastSeq: n ? rows[n - 1]!.cursor_seq : null, hasMore };
}

/** A record row with `at` already formatted by the database as rowToMeta would (no Date round trip per row). */
type PulledRow = Omit<RecordRow, 'updated_at'> & { at: string; cursor_seq: string };
const PULL_COLUMNS_TEXT_AT = `${PULL_COLUMNS.replace(', r.updated_at', '')}, ${AT_SQL} AS at`;
const str = JSON.stringify;
/**
 * One PulledRecordSchema object ({envelope, meta}) as JSON text, written directly: profiled at
 * 5,000 patients, building an object per row for JSON.stringify (plus a Date per timestamp) was
 * the route's largest own cost and most of its garbage. Strings still go through JSON.stringify,
 * so nothing stored can break out of its field.
 */
function recordJson(r: PulledRow): string {
  return `{"envelope":{"v":1,"recordId":${str(r.record_id)},"patientId":${str(r.patient_id)},"resourceType":${str(r.resource_type)},"version":${Number(r.version)},`
    + `"keyId":${str(r.key_id)},"nonce":${str(r.nonce)},"ct":${str(r.ct)},"tag":${str(r.tag)}},`
    + `"meta":{"authorUserId":${str(r.author_user_id)},"deviceId":${str(r.device_id)},"at":${str(r.at)},"deleted":${r.deleted === true}}}`;
}

async function countVisibleAfter(sql: Sql, after: string, patients: string[]): Promise<number> {
  const rows = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM records r WHERE r.seq > $1::bigint AND r.patient_id = ANY($2::text[])', [after, patients]);
  return rows[0]?.n ?? 0;
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
