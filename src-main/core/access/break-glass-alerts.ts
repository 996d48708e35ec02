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
 */
import type { AuditEntry } from '../../../src-shared/audit';
import type { BreakGlassReason } from '../../../src-shared/policy';
import type { Vault } from '../vault';

export interface BreakGlassAlert {
  grantId: string;
  patientId: string;
  userId: string;
  reason: BreakGlassReason;
  /** The clinician's free text, for the privacy officer only: stored encrypted, never logged. */
  justification: string;
  restricted: boolean;
  startedAt: number;
  expiresAt: number;
  /** Granted by the server (it raised the alert) or locally while offline. */
  origin: 'server' | 'offline';
  delivered: boolean;
  /** The audit chain's head seq when the alert was queued: its break-glass-start entry comes after it. */
  auditAfterSeq?: number;
}

/** Alerts queued before auditAfterSeq existed: match the entry by time (it is written right after the enqueue). */
const LEGACY_MATCH_MS = 60_000;

const KEY = 'break-glass.alerts';

export function createBreakGlassAlertQueue(vault: Vault) {
  const read = (): BreakGlassAlert[] => vault.kv.getJson<BreakGlassAlert[]>(KEY) ?? [];
  /** The audit entry that carries this alert's start, with whether the server has accepted it. */
  const startEntry = (a: BreakGlassAlert): { seq: number; pushed: boolean } | null => {
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
      return { seq: r.seq, pushed: r.pushed === 1 };
    }
    return null;
  };
  const setDelivered = (grantIds: ReadonlySet<string>): void =>
    vault.kv.setJson(
      KEY,
      read().map((a) => (grantIds.has(a.grantId) ? { ...a, delivered: true } : a)),
    );
  return {
    enqueue(alert: BreakGlassAlert): void {
      vault.transaction(() => {
        const queued = { ...alert, auditAfterSeq: alert.auditAfterSeq ?? vault.audit.head()?.seq ?? 0 };
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
      let found = false;
      vault.transaction(() =>
        vault.kv.setJson(
          KEY,
          read().map((a) => {
            if (a.grantId !== grantId) return a;
            found = true;
            return { ...a, delivered: true };
          }),
        ),
      );
      return found;
    },
    /**
     * Marks delivered every pending alert whose break-glass-start entry the server has accepted
     * (the audit repository's pushed flag). Returns the grant ids settled now.
     */
    settleDelivered(): string[] {
      const settled = new Set<string>();
      vault.transaction(() => {
        for (const a of read()) {
          if (!a.delivered && startEntry(a)?.pushed) settled.add(a.grantId);
        }
        if (settled.size > 0) setDelivered(settled);
      });
      return [...settled];
    },
  };
}
export type BreakGlassAlertQueue = ReturnType<typeof createBreakGlassAlertQueue>;
