/**
 * The pull's read of the records table: a keyset walk of the seq index filtered by the patients a
 * caller may see (resolved beforehand, see visibility.ts) — no OFFSET, and no join the planner
 * could turn into "sort everything after the cursor" on every page.
 */
import type { Db, Sql } from '../db/db';
import { RECORD_COLUMNS, type RecordRow } from './records';

export interface PulledPage {
  /** The records as JSON text, comma-separated ({envelope, meta} each, as PulledRecordSchema). */
  recordsJson: string;
  count: number;
  patients: number;
  lastSeq: string | null;
  hasMore: boolean;
}

const PAGE_WHERE = 'r.seq > $1::bigint AND r.patient_id = ANY($2::text[])';

/** meta.at as rowToMeta writes it (ISO 8601, milliseconds, UTC). */
const AT_SQL = `to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RECORD_JSON_SQL = `json_build_object(
  'envelope', json_build_object('v', 1, 'recordId', r.record_id, 'patientId', r.patient_id, 'resourceType', r.resource_type,
    'version', r.version, 'keyId', r.key_id, 'nonce', r.nonce, 'ct', r.ct, 'tag', r.tag),
  'meta', json_build_object('authorUserId', r.author_user_id, 'deviceId', r.device_id, 'at', ${AT_SQL}, 'deleted', r.deleted))::text`;

const PULL_COLUMNS = RECORD_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ');
const PULL_COLUMNS_TEXT_AT = `${PULL_COLUMNS.replace(', r.updated_at', '')}, ${AT_SQL} AS at`;

/** A record row with `at` already formatted by the database as rowToMeta would (no Date round trip per row). */
type PulledRow = Omit<RecordRow, 'updated_at'> & { at: string; cursor_seq: string };

/**
 * One page of records of the given patients after seq `after`, in seq order (limit + 1 read to
 * know whether more follow). Embedded PGlite hands every column of every row across its WASM
 * boundary one by one, so there the database writes the page's JSON and hands over one text;
 * PostgreSQL's driver decodes rows cheaply in this process, so there the rows are serialised here.
 */
export async function readPage(db: Db, after: string, patients: readonly string[], limit: number): Promise<PulledPage> {
  if (patients.length === 0) return { recordsJson: '', count: 0, patients: 0, lastSeq: null, hasMore: false };
  const params = [after, [...patients], limit];
  if (db.kind === 'pglite') {
    const rows = await db.query<{ has_more: boolean; body: string | null; last_seq: string | null; n: number; patients: number }>(
      `WITH page AS (SELECT r.seq, r.patient_id, ${RECORD_JSON_SQL} AS j FROM records r WHERE ${PAGE_WHERE} ORDER BY r.seq LIMIT $3::int + 1),
            firstn AS (SELECT * FROM page ORDER BY seq LIMIT $3::int)
       SELECT (SELECT count(*) FROM page) > $3::int AS has_more, string_agg(j, ',' ORDER BY seq) AS body, max(seq)::text AS last_seq,
              count(*)::int AS n, count(DISTINCT patient_id)::int AS patients FROM firstn`,
      params,
    );
    const r = rows[0];
    return { recordsJson: r?.body ?? '', count: r?.n ?? 0, patients: r?.patients ?? 0, lastSeq: r?.last_seq ?? null, hasMore: r?.has_more ?? false };
  }
  const rows = await db.query<PulledRow>(
    `SELECT ${PULL_COLUMNS_TEXT_AT}, r.seq::text AS cursor_seq FROM records r WHERE ${PAGE_WHERE} ORDER BY r.seq LIMIT $3::int + 1`,
    params,
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

/** How many records of these patients follow seq `after` (the pull's progress total). */
export async function countAfter(sql: Sql, after: string, patients: readonly string[]): Promise<number> {
  const rows = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM records r WHERE ${PAGE_WHERE}`, [after, [...patients]]);
  return rows[0]?.n ?? 0;
}
