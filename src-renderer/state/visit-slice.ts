/**
 * The video visit as the UI sees it: ids and states only. No media, no key, no patient name: the
 * streams and the media key live in the call service (visit/call.ts), outside the store and
 * outside React, so neither the inactivity lock (which unmounts every PHI view) nor a re-render
 * can cut the call. Cleared on sign-out; kept over a lock (it holds no PHI).
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';

export type CallStatus = 'starting' | 'waiting' | 'connecting' | 'connected' | 'ended';

export interface VisitState {
  visitId: string;
  /** Opaque record id of the visit's patient (never a name). */
  patientId: string;
  status: CallStatus;
  /** The answer as recorded in main (null = not asked yet). */
  recordingConsent: boolean | null;
  recordingAllowed: boolean;
  /** What the patient page itself answered, if it did (shown; the physician records it). */
  patientPageConsent: boolean | null;
  /** The recording running now, if any. */
  recordingId: string | null;
  /** Why the visit ended (PHI-free), once it has. */
  endedReason: string | null;
}

export interface VisitSlice {
  /** IT policy (SessionStatus): video visits on this workstation, and their recording. */
  videoVisits: boolean;
  visitRecording: boolean;
  visit: VisitState | null;
  setVisit(visit: VisitState | null): void;
  patchVisit(visitId: string, patch: Partial<VisitState>): void;
}

export const createVisitSlice: StateCreator<EhrState, [], [], VisitSlice> = (set) => ({
  videoVisits: false,
  visitRecording: false,
  visit: null,
  setVisit: (visit) => set({ visit }),
  patchVisit: (visitId, patch) => set((s) => (s.visit && s.visit.visitId === visitId ? { visit: { ...s.visit, ...patch } } : {})),
});
