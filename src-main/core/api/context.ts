/**
 * Everything a handler may use. Built once by the workstation (the composition root); handlers
 * receive it and never reach for globals, so tests build the same thing with fakes where they must.
 */
import type { EhrEvent, SyncStatus, ConflictSummary } from '../../../src-shared/api';
import type { SessionPolicy } from '../session/policy';
import type { AuditWriter } from '../audit';
import type { AccountStore, AuthServer, Authenticator } from '../auth';
import type { Clock, SessionManager } from '../session';
import type { Vault } from '../vault';
import type { PrivacyPort } from '../access/privacy-review';
import type { Telemedicine } from '../telemedicine';

/** What the sync.* channels need from the sync engine (adapted in the workstation). */
export interface SyncPort {
  status(): SyncStatus;
  syncNow(): Promise<SyncStatus>;
  conflicts(): ConflictSummary[];
  resolveConflict(conflictId: string, choice: 'local' | 'server'): Promise<SyncStatus>;
  /** A local write was queued: push soon. */
  notifyLocalChange?(): void;
  /** Access to this patient was just granted (online break-glass): fetch the whole chart now. */
  notifyAccessGranted?(patientId: string): void;
}

export interface ApiContext {
  vault: Vault;
  sessions: SessionManager;
  auth: Authenticator;
  accounts: AccountStore;
  audit: AuditWriter;
  policy: SessionPolicy;
  clock: Clock;
  server: AuthServer | null;
  sync: SyncPort | null;
  /** The server's clinic-wide review queue (privacy officer), or null without a sync server. */
  privacy?: PrivacyPort | null;
  /** Video visits and recordings (needs a sync server), or null. */
  telemedicine?: Telemedicine | null;
  emit(event: EhrEvent): void;
}
