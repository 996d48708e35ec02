/**
 * In-memory routing. The URL never changes (no hash, no query): a patient id in a URL would end up
 * in history, crash reports and screenshots of the address bar. The patient id kept here is the
 * opaque record id (never a name or MRN), so it survives a lock: after unlock the clinician is
 * back on the same screen and its data (and any note draft) is fetched again from the vault.
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';

export type Screen = 'patients' | 'chart' | 'vitals' | 'note' | 'conflicts' | 'audit' | 'print' | 'privacy';

export interface NavSlice {
  screen: Screen;
  /** Opaque patient record id of the open chart, if any. */
  patientId: string | null;
  /**
   * Opaque id of the record a screen works on (the note being amended), or null. Reset by every
   * navigation that does not name one; kept over a lock like patientId.
   */
  recordId: string | null;
  /** A short, PHI-free message for the user ("Break-glass access ended; the chart was closed."). */
  notice: string | null;
  navigate(screen: Screen, patientId?: string | null, recordId?: string | null): void;
  setNotice(notice: string | null): void;
}

export const createNavSlice: StateCreator<EhrState, [], [], NavSlice> = (set) => ({
  screen: 'patients',
  patientId: null,
  recordId: null,
  notice: null,
  navigate: (screen, patientId, recordId) =>
    set((s) => ({ screen, patientId: patientId === undefined ? s.patientId : patientId, recordId: recordId ?? null })),
  setNotice: (notice) => set({ notice }),
});
