/**
 * Break-glass: the grants this user holds (opaque patient id + expiry, no PHI) and the dialog.
 * Grants outlive a lock (the core still holds them, and the banner must come back with the
 * countdown still running); they go on logout.
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';
import type { BreakGlassGrant } from '../../src-shared/api/types';

export type GrantView = BreakGlassGrant;

export interface BreakGlassSlice {
  grants: GrantView[];
  /** The patient the break-glass dialog is open for (null: closed; '': the user types the id). */
  breakGlassFor: string | null;
  grantStarted(grant: GrantView): void;
  grantEnded(patientId: string): void;
  openBreakGlass(patientId: string): void;
  closeBreakGlass(): void;
}

export const createBreakGlassSlice: StateCreator<EhrState, [], [], BreakGlassSlice> = (set) => ({
  grants: [],
  breakGlassFor: null,
  grantStarted: (grant) => set((s) => ({ grants: [...s.grants.filter((g) => g.patientId !== grant.patientId), grant] })),
  grantEnded: (patientId) => set((s) => ({ grants: s.grants.filter((g) => g.patientId !== patientId) })),
  openBreakGlass: (patientId) => set({ breakGlassFor: patientId }),
  closeBreakGlass: () => set({ breakGlassFor: null }),
});
