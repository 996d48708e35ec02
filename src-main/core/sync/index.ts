/**
 * The client sync engine: one loop that pushes the outbox, pulls colleagues' changes, pushes the
 * audit chain and reconciles which patients' keys this workstation may keep — and a status that
 * says honestly where things stand (see docs/sync.md).
 *
 *   createSyncEngine({ vault, client }) -> { start, stop, syncNow, status, onStatus, conflicts, resolveConflict }
 *
 * Failure policy:
 *  - network / server hiccup: 'offline', retried with exponential backoff + jitter;
 *  - certificate pin mismatch: 'error', NOT retried on its own (only an explicit syncNow/start);
 *  - device revoked: every cached data key is dropped, 'error', the loop stops;
 *  - signed out / token refused: 'disabled' until the session signs in again.
 */
import type { Vault } from '../vault';
import { createDataKeyService, type DataKeyService } from '../crypto/data-keys';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { DEFAULT_BACKOFF, backoffDelayMs, type BackoffOptions } from './backoff';
import { KV, type SyncContext } from './context';
import { auditQuarantined, auditRejection, pushAudit, unpushedAuditCount } from './audit-queue';
import { listConflicts, resolveConflict, type ConflictChoice, type ConflictView, type ResolveResult } from './conflicts';
import { isTransient } from './http-json';
import { drainOutbox, heldCount, liveRows } from './outbox-drain';
import { isCertificatePinError } from './pinned-https';
import { pullChanges, pullHistories, queueHistory, type PullProgress } from './pull';
import { reconcileScope, type ScopeReport } from './scope';
import { isDeviceRevoked } from './device-revoked';
import { usePullStateOf } from './user-pull-state';
import type { ServerClient } from './server-client';
import type { SyncStatus } from './status';
import { LIMITS } from '../../../src-shared/sync/common';

export type { SyncStatus } from './status';
export type { ConflictChoice, ConflictView, ResolveResult } from './conflicts';
export type { PullProgress } from './pull';

/**
 * What GET /v1/me said at the end of a cycle (ids and grant times only), raised when it differs
 * from the last one raised (and once after start): the session core refreshes the signed-in
 * user's care-team snapshot from it without a request of its own.
 */
export interface ScopeChange {
  userId: string;
  careTeamPatientIds: string[];
  restrictedPatientIds: string[];
  breakGlassGrants: ScopeReport['me']['breakGlassGrants'];
  /** Patients whose keys and cached chart were removed in this cycle. */
  dropped: string[];
  /** Patients that entered the scope in this cycle (their older records were pulled). */
  added: string[];
}

export interface SyncEngineOptions {
  vault: Vault;
  client: ServerClient;
  /** Defaults to the vault's device id (the one enrolled with the server). */
  deviceId?: string;
  keys?: DataKeyService;
  /** Time between automatic cycles while online (default 30 s). */
  intervalMs?: number;
  backoff?: BackoffOptions;
  pushBatch?: number;
  pullLimit?: number;
  auditBatch?: number;
  now?: () => Date;
  /**
   * Patients the session core still grants locally (an OFFLINE break-glass the server does not
   * know): when the server's scope excludes them their keys go, but their cached chart stays.
   */
  keepCharts?: () => Iterable<string>;
  /** Patients the other users of this (shared) workstation hold: kept when the user syncing cannot see them. */
  sharedScope?: (syncingUserId: string) => Iterable<string>;
}

export interface SyncEngine {
  /** Starts the automatic loop (a first cycle runs at once). */
  start(): void;
  /** Stops the loop and waits for a cycle in flight to finish its current step. */
  stop(): Promise<void>;
  /** Runs one full cycle now (or joins the one in flight) and returns the resulting status. */
  syncNow(): Promise<SyncStatus>;
  status(): SyncStatus;
  onStatus(cb: (s: SyncStatus) => void): () => void;
  conflicts(): ConflictView[];
  /** `actor` defaults to the client's signed-in user; the session core should pass the user in front. */
  resolveConflict(conflictId: string, choice: ConflictChoice, actor?: { userId: string; role?: string | null }): Promise<ResolveResult>;
  /** A local write was queued: push soon rather than at the next interval. */
  notifyLocalChange(): void;
  /** The OS says the network changed (e.g. Electron `online`/`offline` events). */
  setNetworkHint(online: boolean): void;
  /**
   * A pull changed these patients' cached charts (ids only; raised after the page is stored, never
   * for a pull that brought nothing new), so an open chart is re-read only when it changed.
   */
  onRecordsChanged(cb: (patientIds: string[]) => void): () => void;
  /** The care team / grants / restrictions changed (seen by any cycle, automatic or not). */
  onScope(cb: (s: ScopeChange) => void): () => void;
  /**
   * Access to the patient was just granted (e.g. an online break-glass): pull the patient's whole
   * chart (not only changes after the cursor) in a cycle that starts now.
   */
  notifyAccessGranted(patientId: string): void;
  readonly keys: DataKeyService;
}

type State = SyncStatus['state'];

const msOrNull = (iso: string | null): number | null => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t : null;
};

export function createSyncEngine(opts: SyncEngineOptions): SyncEngine {
  const { vault, client } = opts;
  const now = opts.now ?? (() => new Date());
  const keys = opts.keys ?? createDataKeyService({ vault, client, now });
  const intervalMs = opts.intervalMs ?? 30_000;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  let abort = new AbortController();
  const ctx: SyncContext = {
    vault, client, keys,
    deviceId: opts.deviceId ?? vault.device.deviceId,
    now, backoff,
    pushBatch: Math.min(opts.pushBatch ?? 200, LIMITS.pushBatch),
    pullLimit: Math.min(opts.pullLimit ?? LIMITS.pullLimitMax, LIMITS.pullLimitMax),
    auditBatch: Math.min(opts.auditBatch ?? 500, LIMITS.auditBatch),
    get signal() { return abort.signal; },
    ...(opts.keepCharts ? { keepCharts: opts.keepCharts } : {}),
    ...(opts.sharedScope ? { sharedScope: opts.sharedScope } : {}),
  };

  let state: State = 'idle';
  let online = false;
  let message: string | undefined;
  let errorCode: string | null = null;
  let pull: PullProgress | null = null;
  let nextAttemptAt: number | null = null;
  let offlineAttempts = 0;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let started = false;
  /** Sticky: a revoked workstation never syncs again (IT re-enrolls it). */
  let revoked = false;
  const listeners = new Set<(s: SyncStatus) => void>();
  const scopeListeners = new Set<(s: ScopeChange) => void>();
  let lastScopeKey: string | null = null;

  function raiseScope(report: ScopeReport): void {
    const me = report.me;
    const change: ScopeChange = {
      userId: me.user.id,
      careTeamPatientIds: [...me.careTeamPatientIds].sort(),
      restrictedPatientIds: [...me.restrictedPatientIds].sort(),
      breakGlassGrants: [...me.breakGlassGrants].sort((a, b) => a.id.localeCompare(b.id)),
      dropped: report.dropped,
      added: report.added,
    };
    const key = JSON.stringify([change.userId, change.careTeamPatientIds, change.restrictedPatientIds, change.breakGlassGrants]);
    if (key === lastScopeKey && report.dropped.length === 0 && report.added.length === 0) return;
    lastScopeKey = key;
    for (const cb of scopeListeners) {
      try {
        cb(change);
      } catch {
        // A listener's failure must not fail the sync cycle.
      }
    }
  }

  const changedListeners = new Set<(patientIds: string[]) => void>();
  function raiseChanged(patients: ReadonlySet<string>): void {
    if (patients.size === 0) return;
    const ids = [...patients];
    for (const cb of changedListeners) {
      try {
        cb(ids);
      } catch {
        // A listener's failure must not fail the sync cycle.
      }
    }
  }

  function status(): SyncStatus {
    const conflicts = vault.resources.countByStatus('conflict');
    const last = vault.kv.get(KV.lastSuccessAt);
    return {
      state, online,
      pendingMutations: vault.outbox.count(),
      heldMutations: heldCount(ctx),
      conflicts,
      lastSyncAt: last ? Date.parse(last) : null,
      ...(message ? { message } : {}),
      pull,
      dataAsOf: vault.kv.getJson<Record<string, string>>(KV.dataAsOf) ?? {},
      dataAsOfAt: msOrNull(vault.kv.get(KV.lastCompletePullAt)),
      audit: { pending: unpushedAuditCount(ctx), rejected: auditRejection(ctx), quarantined: auditQuarantined(ctx).length },
      auditQuarantined: auditQuarantined(ctx).length,
      skippedRecords: (vault.kv.getJson<unknown[]>(KV.skipped) ?? []).length,
      nextAttemptAt: nextAttemptAt ?? queueRetryAt(),
      errorCode,
    };
  }

  /** Without a running loop, the queue's own backoff still says when a retry makes sense. */
  function queueRetryAt(): number | null {
    const head = liveRows(ctx, 1)[0];
    const at = head ? Date.parse(head.nextAttemptAt) : NaN;
    return Number.isFinite(at) && at > now().getTime() ? at : null;
  }

  function emit(): void {
    if (listeners.size === 0 || vault.closed) return;
    const s = status();
    for (const cb of listeners) cb(s);
  }

  function schedule(delayMs: number | null): void {
    if (timer) clearTimeout(timer);
    timer = null;
    nextAttemptAt = null;
    if (!started || delayMs === null) return;
    nextAttemptAt = now().getTime() + delayMs;
    timer = setTimeout(() => void runCycle(), Math.max(0, delayMs));
    timer.unref();
  }

  /** One cycle: push, pull, audit, scope. Each step's failure policy is in the header comment. */
  async function cycle(): Promise<void> {
    if (revoked) return;
    // Expired break-glass keys go first, with no network needed (the workstation may be offline).
    keys.dropExpired();
    if (!client.hasSession()) {
      signedOut('Sign in to sync with the server.', ErrorCode.NO_SESSION);
      return;
    }
    state = 'syncing';
    message = undefined;
    errorCode = null;
    emit();
    let waitUntil: number | null = null;
    try {
      const drained = await drainOutbox(ctx);
      waitUntil = drained.waitUntil;
      online = true;
      emit();
      // The server sends what this user may see: pull from this user's own cursor (shared workstation).
      usePullStateOf(ctx, client.currentUser()?.id ?? null);
      const pulled = await pullChanges(ctx, (p) => {
        pull = p;
        emit();
      });
      raiseChanged(pulled.changedPatients);
      pull = null;
      const audit = await pushAudit(ctx);
      if (audit.rejected) {
        message = 'The server refused part of this workstation\'s audit trail; it is kept here unchanged. IT has to review it.';
        errorCode = `AUDIT_${audit.rejected.reason.toUpperCase()}`;
      } else if (audit.quarantined > 0) {
        // Not an error: the trail flows on. Said once, in the cycle that quarantined; the count stays in status.
        message = `${audit.quarantined} audit ${audit.quarantined === 1 ? 'entry was' : 'entries were'} quarantined: the server holds ${audit.quarantined === 1 ? 'its' : 'their'} place in the chain, this workstation keeps ${audit.quarantined === 1 ? 'it' : 'them'} whole for IT to review.`;
      }
      const scope = await reconcileScope(ctx);
      // Newly accessible patients: their older records, pulled by patient to completion.
      raiseChanged((await pullHistories(ctx)).changedPatients);
      raiseScope(scope);
      if (waitUntil === null) vault.kv.set(KV.lastSuccessAt, now().toISOString());
      state = audit.rejected ? 'error' : 'idle';
      offlineAttempts = 0;
      const delay = waitUntil !== null ? Math.max(0, waitUntil - now().getTime()) : intervalMs;
      schedule(Math.min(delay, intervalMs));
    } catch (e) {
      pull = null;
      handleFailure(e);
    }
  }

  /** No usable session: look again at the normal interval (a cycle without tokens costs no request). */
  function signedOut(why: string, code: string): void {
    state = 'disabled';
    message = why;
    errorCode = code;
    schedule(intervalMs);
  }

  /** Device revoked: every cached data key goes at once; queued work stays (encrypted) for IT. */
  function onRevoked(): void {
    revoked = true;
    keys.dropAll();
    online = true;
    state = 'error';
    message = 'This workstation was revoked by IT: its patient keys were removed and sync is stopped.';
    errorCode = 'DEVICE_REVOKED';
    schedule(null);
  }
  client.onDeviceRevoked(() => {
    if (vault.closed) return;
    onRevoked();
    emit();
  });

  function handleFailure(e: unknown): void {
    if (revoked) return; // the revocation (raised by the client during this cycle) says it all
    if (isCertificatePinError(e)) {
      online = false;
      state = 'error';
      message = e.message;
      errorCode = 'CERT_PIN_MISMATCH';
      schedule(null); // never a silent retry: an explicit syncNow/start tries again
      return;
    }
    if (isDeviceRevoked(e, ctx.deviceId)) {
      onRevoked();
      return;
    }
    if (isTransient(e)) {
      online = !(e instanceof EhrError && e.code === ErrorCode.OFFLINE);
      state = online ? 'error' : 'offline';
      message = (e as EhrError).message;
      errorCode = (e as EhrError).code;
      offlineAttempts++;
      const head = liveRows(ctx, 1)[0];
      const queueWait = head ? Date.parse(head.nextAttemptAt) - now().getTime() : 0;
      schedule(Math.max(backoffDelayMs(offlineAttempts, backoff), queueWait));
      return;
    }
    if (e instanceof EhrError && (e.code === ErrorCode.NO_SESSION || e.code === ErrorCode.UNAUTHENTICATED || e.code === ErrorCode.ACCOUNT_LOCKED)) {
      online = true;
      signedOut('Sign in again to sync with the server.', e.code);
      return;
    }
    state = 'error';
    // EhrError messages are PHI-free by contract; anything else gets a fixed message.
    message = e instanceof EhrError ? e.message : 'Sync failed unexpectedly; it will be retried.';
    errorCode = e instanceof EhrError ? e.code : ErrorCode.INTERNAL;
    schedule(intervalMs);
  }

  function runCycle(): Promise<void> {
    if (running) return running;
    running = cycle().finally(() => {
      running = null;
      emit();
    });
    return running;
  }

  return {
    keys,
    start() {
      if (started) return;
      started = true;
      abort = new AbortController();
      void runCycle();
    },
    async stop() {
      started = false;
      schedule(null);
      abort.abort();
      await running?.catch(() => {});
    },
    async syncNow() {
      await running;
      await runCycle();
      return status();
    },
    status,
    onStatus(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    conflicts: () => listConflicts(vault),
    async resolveConflict(conflictId, choice, actor) {
      const user = client.currentUser();
      const who = actor ?? { userId: user?.id ?? null, role: user?.roles[0] ?? null };
      const result = resolveConflict({ vault, userId: who.userId, role: who.role ?? null }, conflictId, choice);
      emit();
      if (started) schedule(0);
      return result;
    },
    notifyLocalChange() {
      emit();
      if (started && !running) schedule(250);
    },
    onScope(cb) {
      scopeListeners.add(cb);
      return () => scopeListeners.delete(cb);
    },
    onRecordsChanged(cb) {
      changedListeners.add(cb);
      return () => changedListeners.delete(cb);
    },
    notifyAccessGranted(patientId) {
      if (vault.closed) return;
      queueHistory(ctx, [patientId]);
      if (started && !running) schedule(0);
    },
    setNetworkHint(isOnline) {
      if (!isOnline) {
        online = false;
        if (state !== 'error') state = 'offline';
        emit();
      } else if (started) {
        offlineAttempts = 0;
        schedule(0);
      }
    },
  };
}
