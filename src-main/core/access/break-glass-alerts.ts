/**
 * The break-glass alert queue: every break-glass start leaves an alert for the privacy officer that
 * waits in the vault (encrypted) until the server has it, so an emergency access taken offline is
 * still reported. Online starts are reported by the server itself at grant time and are queued
 * already delivered.
 *
 * An offline alert travels with the audit chain: its `break-glass-start` entry (signed, high
 * severity) is pushed by the sync engine, and the server raises the privacy-officer alert when it
 * ingests that entry. `settleDelivered()` (the workstation runs it on every sync status) marks an
 * alert delivered once the server has accepted that entry: the entry is the first successful
 * `break-glass-start` of the same user and patient after the chain head recorded at enqueue time.
 *
 * The free-text justification of an OFFLINE grant follows its entry: once the entry is delivered,
 * the workstation sends the text (POST /v1/break-glass/justification, `deliverJustifications`)
 * naming the entry by this device's id, its seq and correlation id, as the user who broke the glass
 * (only while that user is the session in front with server tokens — see workstation.ts). On
 * success the text is REMOVED from the queue (it lives sealed on the server); on a transient
 * failure it waits for a later sync; on a refusal it is kept, marked `refused` with the code, and
 * counted, never dropped (an admin may `retryRefused()`).
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { OfflineJustificationRequest } from '../../../src-shared/sync/break-glass';
import { CorrelationIdSchema } from '../../../src-shared/sync/common';
import type { AuditEntry } from '../../../src-shared/audit';
import type { BreakGlassReason } from '../../../src-shared/policy';
import type { Vault } from '../vault';

export interface BreakGlassAlert {
  grantId: string;
  patientId: string;
  userId: string;
  reason: BreakGlassReason;
  /**
   * The clinician's free text, for the privacy officer only: stored encrypted, never logged.
   * Absent once the server has it (an offline grant's text, after delivery; sealed there).
   */
  justification?: string;
  restricted: boolean;
  startedAt: number;
  expiresAt: number;
  /** Granted by the server (it raised the alert) or locally while offline. */
  origin: 'server' | 'offline';
  delivered: boolean;
  /** The audit chain's head seq when the alert was queued: its break-glass-start entry comes after it. */
  auditAfterSeq?: number;
  /** Its break-glass-start entry (seq and correlation id), recorded when the entry is found delivered. */
  auditSeq?: number;
  auditCorrelationId?: string;
  /** Offline grants: where the justification stands. Absent = not sent yet. */
  justificationState?: 'sent' | 'refused';
  justificationSentAt?: number;
  /** The server's refusal (codes only), kept with the text so an admin can see and retry it. */
  justificationRefusal?: { code: string; problem: string | null; at: number };
}

/** One offline justification ready to go: the request body (minus this device's id) and its grant. */
export interface DueJustification {
  grantId: string;
  request: Omit<OfflineJustificationRequest, 'deviceId'>;
}

/** Alerts queued before auditAfterSeq existed: match the entry by time (it is written right after the enqueue). */
const LEGACY_MATCH_MS = 60_000;

const KEY = 'break-glass.alerts';

export function createBreakGlassAlertQueue(vault: Vault) {
  const read = (): BreakGlassAlert[] => vault.kv.getJson<BreakGlassAlert[]>(KEY) ?? [];
  /** The audit entry that carries this alert's start, with whether the server has accepted it. */
  const startEntry = (a: BreakGlassAlert): { seq: number; pushed: boolean; correlationId: string } | null => {
    const rows = vault.db
      .prepare<[string, number], { seq: number; pushed: number; entry: string }>(
        "SELECT seq, pushed, entry FROM audit_log WHERE type = 'break-glass-start' AND patient_id = ? AND seq > ? ORDER BY seq LIMIT 50",
      )
      .all(a.patientId, a.auditAfterSeq ?? 0);
    for (const r of rows) {
      const e = JSON.parse(r.entry) as AuditEntry;
      if (e.outcome !== 'success' || e.userId !== a.userId) continue;
      if (a.auditAfterSeq === undefined) {
        const at = Date.parse(e.at);
        if (!(at >= a.startedAt - 1000 && at <= a.startedAt + LEGACY_MATCH_MS)) continue;
      }
      return { seq: r.seq, pushed: r.pushed === 1, correlationId: e.correlationId };
    }
    return null;
  };
  const update = (grantId: string, change: (a: BreakGlassAlert) => BreakGlassAlert): boolean => {
    let found = false;
    vault.transaction(() =>
      vault.kv.setJson(
        KEY,
        read().map((a) => {
          if (a.grantId !== grantId) return a;
          found = true;
          return change(a);
        }),
      ),
    );
    return found;
  };
  /** An offline alert whose text still has to reach the server (not sent, not refused). */
  const textOwed = (a: BreakGlassAlert): boolean => a.origin === 'offline' && typeof a.justification === 'string' && a.justificationState === undefined;
  return {
    enqueue(alert: BreakGlassAlert): void {
      vault.transaction(() => {
        // An online grant's text is already sealed on the server: the vault keeps no copy of it.
        const { justification, ...rest } = alert;
        const kept = alert.origin === 'server' || justification === undefined ? rest : { ...rest, justification };
        const queued = { ...kept, auditAfterSeq: alert.auditAfterSeq ?? vault.audit.head()?.seq ?? 0 };
        vault.kv.setJson(KEY, [...read().filter((a) => a.grantId !== alert.grantId), queued]);
      });
    },
    /** Alerts the server has not acknowledged yet, oldest first. */
    pending(): BreakGlassAlert[] {
      return read().filter((a) => !a.delivered);
    },
    all(): BreakGlassAlert[] {
      return read();
    },
    markDelivered(grantId: string): boolean {
      return update(grantId, (a) => ({ ...a, delivered: true }));
    },
    /**
     * Marks delivered every pending alert whose break-glass-start entry the server has accepted
     * (the audit repository's pushed flag). Returns the grant ids settled now.
     */
    settleDelivered(): string[] {
      const settled: string[] = [];
      vault.transaction(() => {
        let changed = false;
        const next = read().map((a) => {
          // Delivered alerts that still owe their text also need their entry's seq (older queues lack it).
          if (a.delivered && !(textOwed(a) && a.auditSeq === undefined)) return a;
          const entry = startEntry(a);
          if (!entry?.pushed) return a;
          changed = true;
          if (!a.delivered) settled.push(a.grantId);
          return { ...a, delivered: true, auditSeq: entry.seq, auditCorrelationId: entry.correlationId };
        });
        if (changed) vault.kv.setJson(KEY, next);
      });
      return settled;
    },
    /**
     * Offline justifications the server can take now from `userId`: their entry is delivered (the
     * server has ingested it), the text is still here, not sent, not refused. Oldest first.
     */
    justificationsDue(userId: string): DueJustification[] {
      return read()
        .filter((a) => a.userId === userId && a.delivered && textOwed(a) && a.auditSeq !== undefined && a.auditCorrelationId !== undefined)
        .map((a) => ({
          grantId: a.grantId,
          request: { patientId: a.patientId, seq: a.auditSeq!, correlationId: a.auditCorrelationId!, reason: a.reason, justification: a.justification! },
        }));
    },
    /** The server holds the text now (sealed): drop it from the vault, remember that it was sent. */
    markJustificationSent(grantId: string, at: number): boolean {
      return update(grantId, (a) => {
        const { justification: _dropped, justificationRefusal: _none, ...rest } = a;
        return { ...rest, justificationState: 'sent', justificationSentAt: at };
      });
    },
    /** Refused by the server: keep the text, record the code, stop retrying on its own. */
    markJustificationRefused(grantId: string, refusal: { code: string; problem: string | null; at: number }): boolean {
      return update(grantId, (a) => ({ ...a, justificationState: 'refused', justificationRefusal: refusal }));
    },
    /** An admin's retry after fixing the cause (e.g. the user's role): refused texts become due again. */
    retryRefused(): number {
      let n = 0;
      vault.transaction(() =>
        vault.kv.setJson(
          KEY,
          read().map((a) => {
            if (a.justificationState !== 'refused') return a;
            n++;
            const { justificationState: _s, justificationRefusal: _r, ...rest } = a;
            return rest;
          }),
        ),
      );
      return n;
    },
    /** Offline justifications not on the server yet (waiting: entry unpushed, user away, server down) and refused ones. */
    justificationCounts(): { pending: number; refused: number } {
      const all = read();
      return { pending: all.filter(textOwed).length, refused: all.filter((a) => a.justificationState === 'refused').length };
    },
  };
}

/** Sends one justification; the workstation binds it to the server client and the right user's tokens. */
export type JustificationSender = (request: OfflineJustificationRequest, correlationId: string | undefined) => Promise<unknown>;

export interface JustificationDeliveryReport {
  sent: number;
  refused: number;
  /** Left for a later sync (server down, not ingested yet, no session). */
  waiting: number;
}

/**
 * What a failed send means. `retry`: the next sync tries again (the server is down or busy, the
 * entry is not ingested yet, an older server without the route, the session expired). `stop`: the
 * same, and no point trying the others now. `refused`: the server said no for good (role, a
 * different text already stored, a mismatch): keep the text, surface it.
 */
export function classifyJustificationError(e: unknown): 'retry' | 'stop' | 'refused' {
  if (!(e instanceof EhrError)) return 'retry';
  if (e.code === ErrorCode.OFFLINE || e.code === ErrorCode.RATE_LIMITED || e.detail?.transient === true) return 'stop';
  if (e.code === ErrorCode.NO_SESSION || e.code === ErrorCode.UNAUTHENTICATED || e.code === ErrorCode.ACCOUNT_LOCKED) return 'stop';
  if (e.code === ErrorCode.NOT_FOUND || e.code === ErrorCode.INTERNAL) return 'retry';
  return 'refused';
}

/** Sends every due justification of `userId`, one at a time, and records each outcome in the queue. */
export async function deliverJustifications(
  queue: BreakGlassAlertQueue,
  userId: string,
  deviceId: string,
  send: JustificationSender,
  now: () => number,
): Promise<JustificationDeliveryReport> {
  const report: JustificationDeliveryReport = { sent: 0, refused: 0, waiting: 0 };
  const due = queue.justificationsDue(userId);
  for (const [i, item] of due.entries()) {
    const { request } = item;
    // The entry's correlation id on the request ties the server's audit row to the device's entry.
    const correlationId = CorrelationIdSchema.safeParse(request.correlationId).success ? request.correlationId : undefined;
    try {
      await send({ ...request, deviceId }, correlationId);
      queue.markJustificationSent(item.grantId, now());
      report.sent++;
    } catch (e) {
      const verdict = classifyJustificationError(e);
      if (verdict === 'refused') {
        const err = e as EhrError;
        const problem = typeof err.detail?.problem === 'string' ? err.detail.problem : null;
        queue.markJustificationRefused(item.grantId, { code: err.code, problem, at: now() });
        report.refused++;
      } else if (verdict === 'stop') {
        report.waiting += due.length - i;
        break;
      } else report.waiting++;
    }
  }
  return report;
}
export type BreakGlassAlertQueue = ReturnType<typeof createBreakGlassAlertQueue>;
