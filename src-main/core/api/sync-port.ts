/**
 * The sync engine (src-main/core/sync) as the API's sync.* channels and the workstation need it:
 * its status goes to the renderer as `sync.status` events, a resolution answers with the new
 * status, and a local write nudges a push.
 */
import type { EhrEvent } from '../../../src-shared/api';
import type { SyncEngine } from '../sync';
import type { SyncPort } from './context';

export interface EngineSyncPort extends SyncPort {
  start(): void;
  stop(): Promise<void>;
}

export function syncPortFromEngine(engine: SyncEngine, emit: (e: EhrEvent) => void): EngineSyncPort {
  engine.onStatus((s) => emit({ event: 'sync.status', payload: s }));
  return {
    start: () => engine.start(),
    stop: () => engine.stop(),
    status: () => engine.status(),
    syncNow: () => engine.syncNow(),
    conflicts: () => engine.conflicts(),
    async resolveConflict(conflictId, choice) {
      await engine.resolveConflict(conflictId, choice);
      return engine.status();
    },
    notifyLocalChange: () => engine.notifyLocalChange(),
    notifyAccessGranted: (patientId) => engine.notifyAccessGranted(patientId),
  };
}
