/**
 * Connects the sync area's engine (src-main/core/sync createSyncEngine) to the workstation core's
 * SyncPort, and gives the shell a bounded outbox flush for quit. Lives in the shell because the shell
 * is what configures a real server; tests and the e2e fixture pass their own createSync.
 */
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { EhrEvent, SyncStatus } from '../../src-shared/api';
import type { WorkstationOptions, WorkstationSync } from '../core/workstation';

/** The part of the sync engine the shell drives. */
export interface SyncEngineLike {
  start(): void;
  stop(): Promise<void>;
  syncNow(): Promise<SyncStatus & { online: boolean }>;
  status(): SyncStatus & { online: boolean };
  onStatus(cb: (s: SyncStatus) => void): () => void;
  conflicts(): ReturnType<WorkstationSync['conflicts']>;
  resolveConflict(conflictId: string, choice: 'local' | 'server'): Promise<unknown>;
}

type CreateSyncDeps = Parameters<NonNullable<WorkstationOptions['createSync']>>[0];

export interface ShellSync {
  /** Pass as createWorkstation({ createSync }). */
  createSync: NonNullable<WorkstationOptions['createSync']>;
  /**
   * Pushes what is pending when the server is reachable; resolves (never rejects) when done, not
   * needed, or after `timeoutMs` (a slow network must not keep the vault from closing cleanly).
   */
  flush(timeoutMs?: number): Promise<void>;
}

export function createShellSync(build: (deps: { vault: CreateSyncDeps['vault']; client: NonNullable<CreateSyncDeps['client']> }) => SyncEngineLike): ShellSync {
  let engine: SyncEngineLike | null = null;
  return {
    createSync({ vault, client, emit }) {
      if (!client) throw new EhrError(ErrorCode.INTERNAL, 'The sync server is not configured; check the IT policy.');
      const e = build({ vault, client });
      engine = e;
      e.onStatus((s) => emit({ event: 'sync.status', payload: s } satisfies EhrEvent));
      return {
        start: () => e.start(),
        stop: () => e.stop(),
        status: () => e.status(),
        syncNow: () => e.syncNow(),
        conflicts: () => e.conflicts(),
        async resolveConflict(conflictId, choice) {
          await e.resolveConflict(conflictId, choice);
          return e.status();
        },
      };
    },
    async flush(timeoutMs = 8_000) {
      const e = engine;
      if (!e) return;
      const s = e.status();
      // Offline: the outbox stays in the vault and goes out at the next start; nothing to wait for.
      if (!s.online || s.pendingMutations === 0) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      // A failed or unfinished last push is not lost: the rows stay in the encrypted outbox.
      await Promise.race([e.syncNow().then(() => undefined, () => undefined), deadline]);
      clearTimeout(timer);
    },
  };
}
