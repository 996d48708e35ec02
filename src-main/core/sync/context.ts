/** What every part of the sync engine works with; built once by createSyncEngine. */
import type { Vault } from '../vault';
import type { DataKeyService } from '../crypto/data-keys';
import type { BackoffOptions } from './backoff';
import type { ServerClient } from './server-client';

export interface SyncContext {
  vault: Vault;
  client: ServerClient;
  keys: DataKeyService;
  deviceId: string;
  now: () => Date;
  backoff: BackoffOptions;
  /** Mutations per push request (the server accepts up to LIMITS.pushBatch). */
  pushBatch: number;
  /** Records per pull page (up to LIMITS.pullLimitMax). */
  pullLimit: number;
  /** Audit entries per ingest request (up to LIMITS.auditBatch). */
  auditBatch: number;
  signal?: AbortSignal;
  /** Patients whose cached chart stays when the server scope excludes them (active local break-glass). */
  keepCharts?: () => Iterable<string>;
  /**
   * Patients the OTHER users of a shared workstation hold (their care teams, within the IT policy's
   * bounds): their keys and cached charts stay when the user syncing now cannot see them.
   */
  sharedScope?: (syncingUserId: string) => Iterable<string>;
}

/** kv keys the engine owns (values are ids, counts and times: never PHI). */
export const KV = {
  pullCursor: 'sync.pull.cursor',
  pullReceived: 'sync.pull.received',
  lastSuccessAt: 'sync.lastSuccessAt',
  dataAsOf: 'sync.dataAsOf',
  rebase: (recordId: string) => `sync.rebase.${recordId}`,
  auditRejected: 'sync.audit.rejected',
  /** Audit entries sent as placeholders (seq, reason, time): audit-queue.ts. */
  auditQuarantined: 'sync.audit.quarantined',
  scope: 'sync.scope',
  skipped: 'sync.pull.skipped',
  /** Patients whose older records are still to be pulled (access gained) -> their pull cursor ('' = from the start). */
  history: 'sync.pull.history',
  /** The user whose pull cursor, count, scope and history are the live keys above (user-pull-state.ts). */
  pullOwner: 'sync.pull.owner',
  /** The other users' pull state, waiting for them to sync again: { userId: state }. */
  pullUsers: 'sync.pull.users',
  /** Server time (ISO) at the start of the last pull that ran to its end: what "data as of" means. */
  lastCompletePullAt: 'sync.pull.lastCompleteAt',
} as const;
