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
import type { AuditRow, DispositionRequest, EpisodeRead, ReviewItem, ReviewSubject } from '../../src-shared/sync';
import { openText, sealText } from '../keys/sealed';
import * as alerts from '../store/alerts';
import * as auditTrail from '../store/audit-trail';
import * as grants from '../store/grants';
import * as reviews from '../store/reviews';
import * as serverAudit from '../store/server-audit';
import * as users from '../store/users';
import { dispositionAad, justificationAad } from './note-aads';
import { listOfflineGrants } from './offline-grants';
import { writeAudit } from './server-audit';
import type { Principal } from './tokens';

const LIMIT = 500;
const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
/** Whole minutes (the screen shows "N min"; the wire bounds it to an int4 like every number). */
const minutesBetween = (a: string | null, b: string | null): number | null =>
  a && b ? Math.max(0, Math.round((Date.parse(b) - Date.parse(a)) / 60_000)) : null;

type Draft = Omit<ReviewItem, 'dispositions' | 'userStatus'>;

const base = (subject: ReviewSubject, id: string, raisedAt: string): Draft => ({
  subject, id, alertKind: null, severity: null, userId: null, patientId: null, raisedAt,
  reason: null, justification: null, startsAt: null, endsAt: null, durationMinutes: null, detail: {},
});

async function onlineGrants(ctx: ServerContext): Promise<Draft[]> {
  return (await grants.newest(ctx.db, LIMIT)).map((g) => {
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
  return (await alerts.listExceptBreakGlass(ctx.db, LIMIT)).map((a) => ({
    ...base('alert', a.id, iso(a.created_at)!), alertKind: a.kind, severity: a.severity, userId: a.user_id, patientId: a.patient_id, detail: a.detail ?? {},
  }));
}

async function refusedJustifications(ctx: ServerContext): Promise<Draft[]> {
  return (await serverAudit.refusedJustifications(ctx.db, LIMIT)).map((r) => ({
    ...base('refused-justification', r.id, iso(r.at)!), severity: r.severity, userId: r.user_id, patientId: r.patient_id,
    detail: { ...(r.detail ?? {}), outcome: r.outcome, deviceId: r.device_id },
  }));
}

async function withDecisions(ctx: ServerContext, drafts: Draft[]): Promise<ReviewItem[]> {
  if (drafts.length === 0) return [];
  const ids = [...new Set(drafts.map((d) => d.id))];
  const rows = await reviews.ofSubjects(ctx.db, ids);
  const statuses = await users.statuses(ctx.db, [...new Set(drafts.map((d) => d.userId).filter((u): u is string => u !== null))]);
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
  const skewed = (iso: string, sign: 1 | -1): Date => new Date(Date.parse(iso) + sign * DEVICE_CLOCK_SKEW_MS);
  const rows = await auditTrail.readsBy(
    sql, { userId: item.userId!, patientId: item.patientId },
    { from: new Date(w.from), to: new Date(w.to) }, { from: skewed(w.from, -1), to: skewed(w.to, 1) },
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
    ? await auditTrail.search(ctx.db, { userId: item.userId ?? undefined, patientId: item.patientId ?? undefined, from: w.from, to: w.to, source: 'all', limit: 1000 })
    : [];
  const decisions = await auditTrail.search(ctx.db, { source: 'server', limit: 1000 }, { type: 'review-disposition', subjectId: item.id });
  return [...trail, ...decisions];
}

/** Appends a disposition (sealed note) and its audit row in one transaction; answers the item as it is now. */
export async function addDisposition(ctx: ServerContext, principal: Principal, req: DispositionRequest, correlationId: string): Promise<ReviewItem> {
  const item = await reviewItem(ctx, req.subject, req.id);
  await ctx.db.tx(async (sql) => {
    // The row id is taken first and bound into the note's AAD (rows are never updated, so it
    // cannot be added afterwards): a sealed note cannot be moved to another row.
    const id = await reviews.nextId(sql);
    await reviews.insert(sql, {
      id, subject: req.subject, subjectId: req.id, disposition: req.disposition,
      noteSealed: sealText(ctx.notesKey, req.note, dispositionAad(req.subject, req.id, id)), reviewerId: principal.userId, patientId: item.patientId,
    });
    await writeAudit(sql, {
      type: 'review-disposition', action: 'C', outcome: 'success', severity: req.disposition === 'inappropriate' ? 'high' : 'medium',
      userId: principal.userId, deviceId: principal.deviceId, patientId: item.patientId, correlationId,
      detail: { subject: req.subject, subjectId: req.id, disposition: req.disposition, reviewedUserId: item.userId },
    });
  });
  return reviewItem(ctx, req.subject, req.id);
}
