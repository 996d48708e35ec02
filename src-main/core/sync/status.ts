/**
 * Sync status as the UI and the admin see it. A superset of the API's SyncStatus
 * (src-shared/api/types.ts), so the session core can pass it straight to the renderer.
 * Everything here is counts, times, ids and PHI-free messages.
 */
import type { SyncStatus as ApiSyncStatus } from '../../../src-shared/api/types';
import type { AuditRejection } from './audit-queue';
import type { PullProgress } from './pull';

export interface SyncStatus extends ApiSyncStatus {
  /** The server answered the last request. */
  online: boolean;
  /** Outbox rows the server refused or that cannot be sealed (kept, never dropped; included in pendingMutations). */
  heldMutations: number;
  /** Progress of the pull in flight (for a progress bar), or null. */
  pull: PullProgress | null;
  /** Per patient: the time of the last complete pull that covered them (ISO). */
  dataAsOf: Record<string, string>;
  /** `quarantined`: entries sent as placeholders (see audit-queue.ts), kept whole in the vault for review. */
  audit: { pending: number; rejected: AuditRejection | null; quarantined: number };
  /** Records the last pulls skipped (ids only) because they could not be opened or validated. */
  skippedRecords: number;
  /** When the engine will try again on its own (ms since epoch), or null. */
  nextAttemptAt: number | null;
  /** Machine-readable cause of an 'error' or 'offline' state. */
  errorCode: string | null;
}
