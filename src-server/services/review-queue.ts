/**
 * The privacy officer's clinic-wide review queue (src-shared/sync/privacy.ts): online and offline
 * break-glass, every other alert by its kind as stored (so kinds added later show up as they are),
 * and refused deliveries of offline justifications — each with its append-only dispositions.
 *
 * Reads are bounded (the newest 500 of each source), like the older privacy lists. Free texts
 * (justifications, review notes) are sealed at rest with the notes key and opened only here.
 */
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { AuditRow, DispositionRecord, DispositionRequest, EpisodeRead, ReviewItem, ReviewSubject } from '../../src-shared/sync';
import { openText, sealText } from '../keys/sealed';
import { justificationAad } from '../routes/break-glass';
import { listOfflineGrants, queryAudit } from '../routes/privacy';
import { writeAudit } from './server-audit';
import type { Principal } from './tokens';

const LIMIT = 500;
const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
/** Whole minutes (the screen shows "N min"; the wire bounds it to an int4 like every number). */
const minutesBetween = (a: string | null, b: string | null): number | null =>
  a && b ? Math.max(0, Math.round((Date.parse(b) - Date.parse(a)) / 60_000)) : null;
const dispositionAad = (subject: string, id: string, n: string): string => `disposition|${subject}|${id}|${n}`;

type Detail = ReviewItem['detail'];
type Draft = Omit<ReviewItem, 'dispositions' | 'userStatus'>;

interface GrantRow { id: string; user_id: string; patient_id: string; reason: string; justification_sealed: string; starts_at: Date; expires_at: Date }
interface AlertRow { id: string; kind: string; severity: string; user_id: string | null; patient_id: string | null; detail: Detail; created_at: Date }
interface RefusedRow { id: string; at: Date; user_id: string | null; device_id: string | null; patient_id: string | null; severity: string; outcome: string; detail: Detail | null }

const base = (subject: ReviewSubject, id: string, raisedAt: string): Draft => ({
  subject, id, alertKind: null, severity: null, userId: null, patientId: null, raisedAt,
  reason: null, justification: null, startsAt: null, endsAt: null, durationMinutes: null, detail: {},
});

async function onlineGrants(ctx: ServerContext): Promise<Draft[]> {
  const rows = await ctx.db.query<GrantRow>(`SELECT id, user_id, patient_id, reason, justification_sealed, starts_at, expires_at FROM break_glass_grants ORDER BY starts_at DESC LIMIT ${LIMIT}`);
  return rows.map((g) => {
    const startsAt = iso(g.starts_at)!;
    const endsAt = iso(g.expires_at)!;
    return {
      ...base('break-glass', g.id, startsAt), alertKind: 'break-glass', userId: g.user_id, patientId: g.patient_id, reason: g.reason,
      justification: openText(ctx.notesKey, g.justification_sealed, justificationAad(g.id)), startsAt, endsAt, durationMinutes: minutesBetween(startsAt, endsAt),
    };
  });
}

async function offlineGrants(ctx: ServerContext): Promise<Draft[]> {
  return (await listOfflineGrants(ctx))
    .filter((o): o is typeof o & { alertId: string } => o.alertId !== null)
    .map((o) => ({
      ...base('offline-break-glass', o.alertId, o.startedAt ?? o.justificationReceivedAt ?? new Date(0).toISOString()),
      alertKind: 'break-glass', severity: o.severity, userId: o.userId, patientId: o.patientId, reason: o.reason,
      justification: o.justification, startsAt: o.startedAt, endsAt: o.endedAt, durationMinutes: minutesBetween(o.startedAt, o.endedAt),
      detail: { deviceId: o.deviceId, seq: o.seq, justificationReceivedAt: o.justificationReceivedAt },
    }));
}

async function otherAlerts(ctx: ServerContext): Promise<Draft[]> {
  const rows = await ctx.db.query<AlertRow>(
    `SELECT id, kind, severity, user_id, patient_id, detail, created_at FROM alerts WHERE kind <> 'break-glass' ORDER BY created_at DESC, id DESC LIMIT ${LIMIT}`,
  );
  return rows.map((a) => ({
    ...base('alert', a.id, iso(a.created_at)!), alertKind: a.kind, severity: a.severity, userId: a.user_id, patientId: a.patient_id, detail: a.detail ?? {},
  }));
}

async function refusedJustifications(ctx: ServerContext): Promise<Draft[]> {
  const rows = await ctx.db.query<RefusedRow>(
    `SELECT id::text AS id, at, user_id, device_id, patient_id, severity, outcome, detail FROM server_audit
      WHERE type = 'break-glass-justification' AND outcome <> 'success' ORDER BY at DESC, id DESC LIMIT ${LIMIT}`,
  );
  return rows.map((r) => ({
    ...base('refused-justification', r.id, iso(r.at)!), severity: r.severity, userId: r.user_id, patientId: r.patient_id,
    detail: { ...(r.detail ?? {}), outcome: r.outcome, deviceId: r.device_id },
  }));
}

interface DispositionRow { id: string; subject: string; subject_id: string; disposition: DispositionRecord['disposition']; note_sealed: string; reviewer_id: string; at: Date }

async function withDecisions(ctx: ServerContext, drafts: Draft[]): Promise<ReviewItem[]> {
  if (drafts.length === 0) return [];
  const ids = [...new Set(drafts.map((d) => d.id))];
  const rows = await ctx.db.query<DispositionRow>(
    'SELECT id::text AS id, subject, subject_id, disposition, note_sealed, reviewer_id, at FROM review_dispositions WHERE subject_id = ANY($1::text[]) ORDER BY id',
    [ids],
  );
  const users = [...new Set(drafts.map((d) => d.userId).filter((u): u is string => u !== null))];
  const statuses = new Map(
    (await ctx.db.query<{ id: string; status: string }>('SELECT id, status FROM users WHERE id = ANY($1::text[])', [users])).map((u) => [u.id, u.status]),
  );
  return drafts.map((d) => ({
    ...d,
    userStatus: d.userId ? (statuses.get(d.userId) ?? null) : null,
    dispositions: rows
      .filter((r) => r.subject === d.subject && r.subject_id === d.id)
      .map((r) => ({ disposition: r.disposition, note: openText(ctx.notesKey, r.note_sealed, dispositionAad(r.subject, r.subject_id, r.id)), reviewerId: r.reviewer_id, at: iso(r.at)! })),
  }));
}

/** The whole queue, newest first; `open` keeps the items without any disposition yet. */
export async function reviewQueue(ctx: ServerContext, open: boolean): Promise<ReviewItem[]> {
  const drafts = (await Promise.all([onlineGrants(ctx), offlineGrants(ctx), otherAlerts(ctx), refusedJustifications(ctx)])).flat();
  drafts.sort((a, b) => (a.raisedAt < b.raisedAt ? 1 : a.raisedAt > b.raisedAt ? -1 : 0));
  const items = await withDecisions(ctx, drafts);
  return open ? items.filter((i) => i.dispositions.length === 0) : items;
}

const SOURCES: Record<ReviewSubject, (ctx: ServerContext) => Promise<Draft[]>> = {
  'break-glass': onlineGrants,
  'offline-break-glass': offlineGrants,
  alert: otherAlerts,
  'refused-justification': refusedJustifications,
};

/** One item, or NOT_FOUND (ids only in the error). */
export async function reviewItem(ctx: ServerContext, subject: ReviewSubject, id: string): Promise<ReviewItem> {
  const draft = (await SOURCES[subject](ctx)).find((d) => d.id === id);
  if (!draft) throw new EhrError(ErrorCode.NOT_FOUND, 'No such review item.', { subject, id });
  return (await withDecisions(ctx, [draft]))[0]!;
}

/**
 * The window whose accesses the officer reviews: a grant's run (start to end, or to now while it
 * runs), or for an alert about a user the hour before it was raised.
 */
function windowOf(item: ReviewItem, now: Date): { from: string; to: string } | null {
  if (!item.userId) return null;
  if (item.startsAt) return { from: item.startsAt, to: item.endsAt && Date.parse(item.endsAt) < now.getTime() ? item.endsAt : now.toISOString() };
  return { from: new Date(Date.parse(item.raisedAt) - 3600_000).toISOString(), to: item.raisedAt };
}

/**
 * Workstation clocks are not the server's: a device's audit times may drift by minutes, so its
 * entries are matched to the window with this allowance either side (the server's own are not).
 */
const DEVICE_CLOCK_SKEW_MS = 5 * 60_000;

/** Every record the item's user read (of its patient, when it names one) inside the window. */
export async function episodeReads(sql: Sql, item: ReviewItem, now: Date): Promise<EpisodeRead[]> {
  const w = windowOf(item, now);
  if (!w) return [];
  const patient = item.patientId;
  const skewed = (iso: string, sign: 1 | -1): Date => new Date(Date.parse(iso) + sign * DEVICE_CLOCK_SKEW_MS);
  const rows = await sql.query<{ source: 'device' | 'server'; at: Date; type: string; action: string; device_id: string | null; refs: unknown }>(
    `SELECT 'device' AS source, at, type, action, device_id, entry->'resourceRefs' AS refs FROM device_audit
      WHERE user_id = $1 AND ($2::text IS NULL OR patient_id = $2) AND at >= $5 AND at <= $6 AND action = 'R'
     UNION ALL
     SELECT 'server' AS source, at, type, action, device_id, NULL::jsonb AS refs FROM server_audit
      WHERE user_id = $1 AND ($2::text IS NULL OR patient_id = $2) AND at >= $3 AND at <= $4 AND action = 'R' AND patient_id IS NOT NULL
     ORDER BY at LIMIT 1000`,
    [item.userId, patient, new Date(w.from), new Date(w.to), skewed(w.from, -1), skewed(w.to, 1)],
  );
  return rows.map((r) => ({
    source: r.source, at: iso(r.at)!, type: r.type, action: r.action, deviceId: r.device_id,
    resourceRefs: Array.isArray(r.refs) ? r.refs.filter((x): x is string => typeof x === 'string') : [],
  }));
}

/** The episode's audit trail (its window, its user and patient) and its dispositions, as audit rows for the FHIR export. */
export async function episodeAuditRows(ctx: ServerContext, item: ReviewItem): Promise<AuditRow[]> {
  const w = windowOf(item, ctx.now());
  const trail = w
    ? await queryAudit(ctx, { userId: item.userId ?? undefined, patientId: item.patientId ?? undefined, from: w.from, to: w.to, source: 'all', limit: 1000 })
    : [];
  const decisions = await queryAudit(ctx, { source: 'server', limit: 1000 }, { type: 'review-disposition', subjectId: item.id });
  return [...trail, ...decisions];
}

/** Appends a disposition (sealed note) and its audit row in one transaction; answers the item as it is now. */
export async function addDisposition(ctx: ServerContext, principal: Principal, req: DispositionRequest, correlationId: string): Promise<ReviewItem> {
  const item = await reviewItem(ctx, req.subject, req.id);
  await ctx.db.tx(async (sql) => {
    // The row id is taken first and bound into the note's AAD (rows are never updated, so it
    // cannot be added afterwards): a sealed note cannot be moved to another row.
    const [next] = await sql.query<{ id: string }>("SELECT nextval(pg_get_serial_sequence('review_dispositions', 'id'))::text AS id");
    const id = next!.id;
    await sql.query(
      `INSERT INTO review_dispositions (id, subject, subject_id, disposition, note_sealed, reviewer_id, patient_id) VALUES ($1::bigint, $2, $3, $4, $5, $6, $7)`,
      [id, req.subject, req.id, req.disposition, sealText(ctx.notesKey, req.note, dispositionAad(req.subject, req.id, id)), principal.userId, item.patientId],
    );
    await writeAudit(sql, {
      type: 'review-disposition', action: 'C', outcome: 'success', severity: req.disposition === 'inappropriate' ? 'high' : 'medium',
      userId: principal.userId, deviceId: principal.deviceId, patientId: item.patientId, correlationId,
      detail: { subject: req.subject, subjectId: req.id, disposition: req.disposition, reviewedUserId: item.userId },
    });
  });
  return reviewItem(ctx, req.subject, req.id);
}
