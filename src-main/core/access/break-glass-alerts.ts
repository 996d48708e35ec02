/**
 * The break-glass alert queue: every break-glass start leaves an alert for the privacy officer that
 * waits in the vault (encrypted) until the server has it, so an emergency access taken offline is
 * still reported. Online starts are reported by the server itself at grant time and are queued
 * already delivered. The sync engine drains `pending` (e.g. alongside the audit push) and calls
 * `markDelivered`.
 */
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
}

const KEY = 'break-glass.alerts';

export function createBreakGlassAlertQueue(vault: Vault) {
  const read = (): BreakGlassAlert[] => vault.kv.getJson<BreakGlassAlert[]>(KEY) ?? [];
  return {
    enqueue(alert: BreakGlassAlert): void {
      vault.transaction(() => vault.kv.setJson(KEY, [...read().filter((a) => a.grantId !== alert.grantId), alert]));
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
  };
}
export type BreakGlassAlertQueue = ReturnType<typeof createBreakGlassAlertQueue>;
