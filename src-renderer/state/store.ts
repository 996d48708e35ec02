/**
 * The one renderer store, composed of slices (zustand's slices pattern). Deliberately no
 * `persist` middleware and no devtools: nothing here may reach localStorage, sessionStorage or
 * IndexedDB (test/renderer/store.test.ts watches web storage while driving every action).
 */
import { createStore } from 'zustand/vanilla';
import { createSessionSlice, type SessionSlice } from './session-slice';
import { createPatientSlice, type PatientSlice } from './patient-slice';
import { createSyncSlice, type SyncSlice } from './sync-slice';
import { createBreakGlassSlice, type BreakGlassSlice } from './breakglass-slice';
import { createNavSlice, type NavSlice } from './nav-slice';
import { createVisitSlice, type VisitSlice } from './visit-slice';

export type EhrState = SessionSlice & PatientSlice & SyncSlice & BreakGlassSlice & NavSlice & VisitSlice;

export function createEhrStore() {
  return createStore<EhrState>()((...a) => ({
    ...createSessionSlice(...a),
    ...createPatientSlice(...a),
    ...createSyncSlice(...a),
    ...createBreakGlassSlice(...a),
    ...createNavSlice(...a),
    ...createVisitSlice(...a),
  }));
}

export type EhrStore = ReturnType<typeof createEhrStore>;
