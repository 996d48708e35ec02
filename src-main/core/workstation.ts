/**
 * The workstation core: the single composition root the Electron shell, the renderer's e2e fixture
 * and integration tests all use. It opens the vault (key from the OS keychain), and wires the
 * session state machine, login, access checks, the audit writer and the API handlers, plus the
 * sync engine when a server is configured.
 *
 *   const ws = await createWorkstation({ dataDir, keyStore, policy, server: { url, fingerprint } });
 *   await ws.invoke('auth.login', { username, password });   // -> { ok: true, value: SessionStatus }
 *   ws.onEvent((e) => forward(e));                            // lock warning, locked, break-glass expired...
 *   ws.lockNow('screen-lock');                                // OS screen lock / suspend
 */
import { randomUUID } from 'node:crypto';
import type { ApiResult, EhrEvent, LockReason, SyncStatus } from '../../src-shared/api';
import { isAccessible, patientAccess } from '../../src-shared/access';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { Policy } from '../../src-shared/policy';
import { createBreakGlassAlertQueue, deliverJustifications, privacyPortFromClient, type BreakGlassAlertQueue, type PrivacyPort } from './access';
import { actorOf, createApi, handlers, syncPortFromEngine, type SyncPort } from './api';
import { AuditWriter, auditedDataKeys } from './audit';
import { Authenticator, authServerFromClient, createVaultAccountStore, type Argon2Cost, type AuthServer, type ServerTokens } from './auth';
import { createDataKeyService } from './crypto/data-keys';
import type { KeyStore } from './keychain';
import { SessionManager, sessionPolicy, systemClock, type Clock, type SessionPolicy, type UserSession } from './session';
import { createSyncEngine } from './sync';
import { sharedWorkstationScope } from './session/shared-scope';
import { createServerClient, type ServerClient } from './sync/server-client';
import { openVault, type Vault } from './vault';
import { createTelemedicine, pendingChunks, pinnedSignalConnector, visitServerFromClient, type Telemedicine, type TelemedicineDeps } from './telemedicine';

/** How long close() waits for a final sync by default before giving up (the outbox keeps the rest). */
const CLOSE_FLUSH_MS = 3000;

export interface WorkstationOptions {
  /** Folder of the vault (vault.db + meta). */
  dataDir: string;
  keyStore: KeyStore;
  /** The IT policy (the shell passes the validated one; tests may pass only the fields they change). */
  policy?: Partial<Policy>;
  /** The sync server; without it login is offline-only and sync is disabled. */
  server?: { url: string; fingerprint: string } | null;
  /** Replaces the HTTPS server client for login/break-glass (tests: a fake server). */
  authServer?: AuthServer;
  /** Builds the sync engine once the vault and the server client exist (the sync area's createSyncEngine, adapted). */
  createSync?: (deps: { vault: Vault; client: ServerClient | null; deviceId: string; emit: (e: EhrEvent) => void }) => WorkstationSync;
  /** Injectable time (tests: FakeClock). */
  clock?: Clock;
  nativeBinding?: string;
  /** Argon2id cost of new offline verifiers (tests lower it). */
  argon2?: Argon2Cost;
  cacheSizeMb?: number;
  /** Vault durability; FULL (default) in production. Bulk tests may pass NORMAL. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How often the sync engine cycles on its own (default: the engine's 30 s). Tests shorten it. */
  syncIntervalMs?: number;
  /** Replaces the server's review queue for the privacy.* channels (tests: a fake). */
  privacy?: PrivacyPort;
  /** Upper bound on close()'s last push (default 3 s); the Electron shell allows longer on quit. */
  closeFlushMs?: number;
  /** Replaces the visit server, signalling and keys of telemedicine (tests: fakes without a sync server). */
  telemedicine?: (deps: { vault: Vault }) => Pick<TelemedicineDeps, 'server' | 'signals' | 'keys'> & Partial<Pick<TelemedicineDeps, 'useSession' | 'accessToken'>>;
}

/** The sync engine as the workstation drives it. */
export interface WorkstationSync extends SyncPort {
  start?(): void;
  stop?(): Promise<void> | void;
}

export type WorkstationLockReason = Extract<LockReason, 'idle' | 'screen-lock' | 'suspend' | 'user'>;

export interface Workstation {
  /** One API call: validated, guarded (session, lock, role, patient) and audited. Never throws. */
  invoke(channel: string, input: unknown): Promise<ApiResult<unknown>>;
  /** Events for the renderer; returns the unsubscribe function. */
  onEvent(listener: (event: EhrEvent) => void): () => void;
  /** OS screen lock, suspend, or the user's lock: the session in front locks at once. */
  lockNow(reason: WorkstationLockReason): boolean;
  /** Renderer activity outside an API call. */
  heartbeat(): number | null;
  /**
   * May the window use the camera and microphone now? Only while the user in front hosts an open
   * video visit and IT policy allows video visits (the shell's permission handlers and the
   * development host ask this at each question; docs/telemedicine.md).
   */
  mediaCaptureAllowed(): boolean;
  /** Flushes the outbox if the server answers within 3 s, stops timers and sync, closes the vault. Sessions end without logout entries (the app is closing). */
  close(): Promise<void>;
  readonly deviceId: string;
  readonly policy: SessionPolicy;
  /** For integration tests and the sync engine: the vault, the sessions, the break-glass alert queue. */
  readonly vault: Vault;
  readonly sessions: SessionManager;
  readonly breakGlassAlerts: BreakGlassAlertQueue;
  /** Records a patient data-key access (the sync engine calls it when it unwraps or uses a key). */
  recordKeyAccess(patientId: string, keyId: string): void;
  /** Video visits and recordings (null without a sync server): tests reach the registry and the offline queue. */
  readonly telemedicine: Telemedicine | null;
}

export async function createWorkstation(opts: WorkstationOptions): Promise<Workstation> {
  const policy = sessionPolicy(opts.policy);
  const clock = opts.clock ?? systemClock;
  const vault = await openVault({
    dir: opts.dataDir,
    keyStore: opts.keyStore,
    ...(opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {}),
    ...(opts.cacheSizeMb ? { cacheSizeMb: opts.cacheSizeMb } : {}),
    ...(opts.synchronous ? { synchronous: opts.synchronous } : {}),
  });
  try {
    return compose(opts, policy, clock, vault);
  } catch (e) {
    // Nothing else holds the vault yet: close it, or its exclusive lock would outlive the failure.
    vault.close();
    throw e;
  }
}

function compose(opts: WorkstationOptions, policy: SessionPolicy, clock: Clock, vault: Vault): Workstation {
  const deviceId = vault.device.deviceId;

  const listeners = new Set<(e: EhrEvent) => void>();
  const emit = (e: EhrEvent): void => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // A broken listener must not stop the lock from reaching the others.
      }
    }
  };

  const audit = new AuditWriter(vault.audit, () => clock.now());
  /** Session-level events (lock, grant end) are correlated by the session id. */
  const actor = (s: UserSession) => actorOf(s, s.sessionId);
  const sessions = new SessionManager({
    clock,
    policy,
    hooks: {
      emit,
      onLocked: (s, reason) => audit.record(actor(s), { type: 'lock', reasonCode: reason }),
      onBreakGlassEnded: (s, g, cause) =>
        audit.record(actor(s), { type: 'break-glass-end', patientId: g.patientId, resourceRefs: [`Patient/${g.patientId}`], reasonCode: cause }),
    },
  });

  const client = opts.server ? createServerClient({ serverUrl: opts.server.url, fingerprint: opts.server.fingerprint, deviceId }) : null;
  const clientAuth = client ? authServerFromClient(client) : null;
  const server = opts.authServer ?? clientAuth;
  const accounts = createVaultAccountStore(vault);
  const auth = new Authenticator({ accounts, server, policy, now: () => clock.now(), ...(opts.argon2 ? { argon2: opts.argon2 } : {}) });

  const recordKeyAccess = (patientId: string, keyId: string): void => {
    const s = sessions.front;
    audit.record(s ? actor(s) : { userId: null, role: null, correlationId: randomUUID() }, { type: 'key-access', patientId, resourceRefs: [`DataKey/${keyId}`] });
  };
  // Offline break-glass alerts travel with the audit chain (the server raises them at ingest): every
  // sync status settles the queue against the pushed entries and carries the undelivered count.
  const breakGlassAlerts = createBreakGlassAlertQueue(vault);
  const withAlerts = (s: SyncStatus): SyncStatus => {
    if (vault.closed) return s;
    try {
      breakGlassAlerts.settleDelivered();
      const texts = breakGlassAlerts.justificationCounts();
      return {
        ...s,
        breakGlassAlertsPending: breakGlassAlerts.pending().length,
        breakGlassJustificationsPending: texts.pending,
        breakGlassJustificationsRefused: texts.refused,
      };
    } catch {
      return s; // a status must never fail because of the queue (e.g. the vault closing mid-cycle)
    }
  };
  // An offline grant's free-text justification follows its audit entry once the server has ingested
  // it. It is sent as the user who broke the glass, and only while that user is the session in front
  // with server tokens (an online sign-in): the device holds no other credential for them, and after a
  // logout their tokens are revoked, so another user's texts wait until that user signs in again.
  let delivering: Promise<void> | null = null;
  const deliverTexts = (): Promise<void> => {
    if (delivering) return delivering;
    const s = sessions.front;
    const tokens = s?.serverAuth as ServerTokens | null | undefined;
    if (!client || !clientAuth || vault.closed || !s || !tokens) return Promise.resolve();
    let due = 0;
    try {
      breakGlassAlerts.settleDelivered();
      due = breakGlassAlerts.justificationsDue(s.user.userId).length;
    } catch {
      return Promise.resolve();
    }
    if (due === 0) return Promise.resolve();
    const userId = s.user.userId;
    delivering = (async () => {
      try {
        const report = await deliverJustifications(breakGlassAlerts, userId, deviceId, async (req, correlationId) => {
          // The front session may have changed while an earlier text was in flight: never send as someone else.
          const front = sessions.front;
          const current = front?.serverAuth as ServerTokens | null | undefined;
          if (!front || front.user.userId !== userId || !current || vault.closed) throw new EhrError(ErrorCode.NO_SESSION, 'That user is not signed in.');
          clientAuth.install(current);
          return client.breakGlassJustification(req, correlationId ? { correlationId } : undefined);
        }, () => clock.now());
        if ((report.sent > 0 || report.refused > 0) && sync && !vault.closed) emit({ event: 'sync.status', payload: withAlerts(sync.status()) });
      } catch {
        // Never let a delivery failure escape: the texts stay queued for the next sync.
      } finally {
        delivering = null;
      }
    })();
    return delivering;
  };
  // Telemedicine: built before the sync engine so a cycle can send recording chunks that waited offline.
  let telemedicine: Telemedicine | null = null;
  const syncEmit = (e: EhrEvent): void => {
    if (e.event !== 'sync.status') return emit(e);
    emit({ event: 'sync.status', payload: withAlerts(e.payload) });
    // After a successful cycle (the audit chain pushed), send what the server can now take.
    if (e.payload.state === 'idle') {
      void deliverTexts();
      void flushRecordings();
    }
  };
  /** Sealed chunks queued while offline go as the user they belong to, only while that user is in front. */
  const flushRecordings = async (): Promise<void> => {
    const s = sessions.front;
    if (!telemedicine || vault.closed || !s || !s.serverAuth) return;
    try {
      if (telemedicine.recordings.pendingCount() > 0) await telemedicine.recordings.flush(s);
    } catch {
      // Still offline: the chunks stay sealed in the vault for the next cycle.
    }
  };
  const keys = client ? auditedDataKeys(createDataKeyService({ vault, client }), recordKeyAccess) : null;
  const teleParts = opts.telemedicine?.({ vault })
    ?? (client && keys && opts.server
      ? { server: visitServerFromClient(client), signals: pinnedSignalConnector({ serverUrl: opts.server.url, fingerprint: opts.server.fingerprint }), keys }
      : null);
  if (teleParts) {
    telemedicine = createTelemedicine({
      useSession: (s) => {
        const tokens = s.serverAuth as ServerTokens | null | undefined;
        if (tokens) clientAuth?.install(tokens);
      },
      accessToken: (s) => (s.serverAuth as ServerTokens | null | undefined)?.accessToken ?? null,
      // The shared client refreshes the installed tokens in place (the session's own object).
      ...(client && clientAuth
        ? {
            refreshSession: async (s: UserSession) => {
              const tokens = s.serverAuth as ServerTokens | null | undefined;
              if (!tokens) return;
              clientAuth.install(tokens);
              await client.refresh();
            },
          }
        : {}),
      ...teleParts,
      pending: pendingChunks(vault),
      audit,
      emit,
      now: () => new Date(clock.now()),
    });
    // A revoked workstation hangs up every call at once (the server has already cut the sockets).
    const tm = telemedicine;
    client?.onDeviceRevoked(() => void tm.visits.endAll('device-revoked'));
  }
  let sync: WorkstationSync | null = null;
  if (opts.createSync) sync = opts.createSync({ vault, client, deviceId, emit: syncEmit });
  else if (client && keys) {
    const engine = createSyncEngine({
      vault,
      client,
      keys,
      ...(opts.syncIntervalMs ? { intervalMs: opts.syncIntervalMs } : {}),
      // A break-glass granted offline is unknown to the server: keep that chart on a reconnect
      // until the grant ends here (the session manager ends it, and the next cycle purges it).
      keepCharts: () => sessions.activeBreakGlassPatientIds(),
      // Shared workstation: the other users' care-team patients stay cached (bounded by IT policy).
      sharedScope: (syncingUserId) => sharedWorkstationScope({ accounts, sessions, policy, now: clock.now() }, syncingUserId),
    });
    // Every cycle re-reads the care team: hand it to the session in front, so access decisions
    // follow a care-team change without a new login or an explicit sync.now.
    engine.onScope((scope) => {
      const s = sessions.front;
      if (!s || s.user.userId !== scope.userId) return;
      s.careTeam = { careTeam: scope.careTeamPatientIds, restricted: scope.restrictedPatientIds, grants: s.careTeam.grants };
      accounts.saveCareTeam(s.user.userId, s.careTeam);
    });
    // A background pull changed charts: tell the renderer which of the front user's patients, so an
    // open chart is re-read (an audited read) only when it actually changed.
    engine.onRecordsChanged((patientIds) => {
      const s = sessions.front;
      if (!s || s.state === 'locked') return;
      const visible = patientIds.filter((p) => isAccessible(patientAccess(s.careTeam, p, sessions.activeBreakGlass(s, p) !== null)));
      if (visible.length) emit({ event: 'records.changed', payload: { patientIds: visible } });
    });
    sync = syncPortFromEngine(engine, syncEmit);
  }
  if (sync) sync = settlingAlerts(sync, withAlerts, deliverTexts);
  // The sync engine pushes as the user in front: install their server tokens whenever the front
  // session changes (a locked user's session keeps syncing until someone else signs in).
  if (clientAuth) {
    listeners.add((e) => {
      if (e.event !== 'session.changed') return;
      const tokens = sessions.front?.serverAuth as ServerTokens | null | undefined;
      if (tokens) clientAuth.install(tokens);
    });
  }
  sync?.start?.();

  const privacy = opts.privacy ?? (client && clientAuth ? privacyPortFromClient(client, clientAuth) : null);
  const api = createApi({ vault, sessions, auth, accounts, audit, policy, clock, server, sync, privacy, telemedicine, emit }, handlers);

  return {
    invoke: (channel, input) => api.invoke(channel, input),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    lockNow: (reason) => sessions.lock(reason),
    heartbeat: () => sessions.heartbeat(),
    mediaCaptureAllowed() {
      const front = sessions.front;
      if (policy.videoVisits === false || !telemedicine || !front || vault.closed) return false;
      return telemedicine.registry.visitsOf(front.sessionId).some((v) => v.status === 'open');
    },
    async close() {
      // The app is closing: every call hangs up (the server ends a visit whose host socket is gone).
      await telemedicine?.visits.endAll('ended').catch(() => undefined);
      sessions.close();
      // One last push of queued writes and audit entries if the server answers in time; offline there
      // is nothing to wait for. Whatever is left stays in the outbox (encrypted) for the next start.
      if (sync && sync.status().state !== 'offline') {
        const bound = new Promise((r) => setTimeout(r, opts.closeFlushMs ?? CLOSE_FLUSH_MS).unref());
        await Promise.race([sync.syncNow().catch(() => undefined), bound]);
      }
      await sync?.stop?.();
      // A justification in flight either lands (and leaves the vault) or stays queued for the next start.
      if (delivering) await Promise.race([delivering, new Promise((r) => setTimeout(r, opts.closeFlushMs ?? CLOSE_FLUSH_MS).unref())]);
      client?.close();
      listeners.clear();
      vault.close();
    },
    deviceId,
    policy,
    vault,
    sessions,
    breakGlassAlerts,
    recordKeyAccess,
    telemedicine,
  };
}

/**
 * The sync port with every status it answers passed through `withAlerts` (settle + pending counts);
 * an explicit sync also sends the offline justifications the server can take now before answering.
 */
function settlingAlerts(port: WorkstationSync, withAlerts: (s: SyncStatus) => SyncStatus, deliverTexts: () => Promise<void>): WorkstationSync {
  return {
    ...(port.start ? { start: () => port.start!() } : {}),
    ...(port.stop ? { stop: () => port.stop!() } : {}),
    ...(port.notifyLocalChange ? { notifyLocalChange: () => port.notifyLocalChange!() } : {}),
    ...(port.notifyAccessGranted ? { notifyAccessGranted: (id: string) => port.notifyAccessGranted!(id) } : {}),
    status: () => withAlerts(port.status()),
    syncNow: async () => {
      const status = await port.syncNow();
      if (status.state === 'idle') await deliverTexts();
      return withAlerts(status);
    },
    conflicts: () => port.conflicts(),
    resolveConflict: async (conflictId, choice) => withAlerts(await port.resolveConflict(conflictId, choice)),
  };
}
