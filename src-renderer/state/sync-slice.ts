/**
 * The sync slice: what the status bar shows. No PHI: a state, counts and timestamps (main's clock).
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';
import type { SyncStatus } from '../../src-shared/api/types';

export interface SyncSlice {
  sync: SyncStatus;
  /** False until main has told us anything about sync (before sign-in it usually has not). */
  syncKnown: boolean;
  syncStatus(next: SyncStatus): void;
}

export const initialSync: SyncStatus = { state: 'offline', pendingMutations: 0, conflicts: 0, lastSyncAt: null };

/** Online means the last attempt reached the server (idle or syncing). */
export const isOnline = (s: SyncStatus): boolean => s.state === 'idle' || s.state === 'syncing';

export const createSyncSlice: StateCreator<EhrState, [], [], SyncSlice> = (set) => ({
  sync: initialSync,
  syncKnown: false,
  syncStatus: (next) => set({ sync: next, syncKnown: true }),
});
