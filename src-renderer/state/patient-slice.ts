/**
 * The PHI slice: everything in the renderer that describes a patient. It is the only slice that
 * holds patient data, so "clear PHI" is one function over one slice, and the list below is the
 * whole of what a lock drops:
 *
 *   myPatients   "my patients": the care-team list from patients.mine (names, DOB, MRN)
 *   recent       patients opened this session (e.g. under break-glass, outside the care team)
 *   query        what the clinician typed in search (a name or MRN is PHI too)
 *   results      search results, and resultsFor: the text they answer
 *   chart        the open chart (banner, problems, medications, allergies, vitals, notes, encounters)
 *   noteText     the progress note being written (its draft lives on, encrypted, in the vault)
 *   amendText    the amendment of a signed note being written (its draft too)
 *   conflicts    sync conflicts, both versions of each record
 *   audit        audit rows and break-glass reviews (they name patients)
 *   reviewQueue, reviewEpisode, recordingAccess   the privacy officer's console (patient ids, justifications, who viewed which recording)
 *
 * Requests race with the lock: a chart fetch that started before the lock may resolve after it.
 * Every PHI write therefore carries the `phiEpoch` it was started in; clearPhi bumps the epoch, so
 * a late answer is dropped instead of putting PHI back on screen.
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';
import type { AuditRow, ChartView, ConflictView, PatientRow, RecordingAccessRow, ReviewEpisodeView, ReviewQueueRow } from './phi-types';

export interface PhiData {
  myPatients: PatientRow[];
  recent: PatientRow[];
  query: string;
  results: PatientRow[] | null;
  resultsFor: string;
  chart: ChartView | null;
  noteText: string;
  amendText: string;
  conflicts: ConflictView[];
  audit: AuditRow[];
  /** The privacy officer's clinic-wide queue and the episode open in it (justifications, who read what). */
  reviewQueue: ReviewQueueRow[];
  reviewEpisode: ReviewEpisodeView | null;
  /** The recording access log (who recorded, viewed, downloaded or deleted which patient's recording). */
  recordingAccess: RecordingAccessRow[];
}

export interface PatientSlice extends PhiData {
  /** Bumped by every clearPhi; a PHI write from an older epoch is ignored. */
  phiEpoch: number;
  /** Store PHI fetched in `epoch`; refused if the store was cleared since or is locked. */
  putPhi(epoch: number, patch: Partial<PhiData>): boolean;
  /** Drop every field of PhiData. Called by lock and logout (session slice), never skipped. */
  clearPhi(): void;
}

export const emptyPhi = (): PhiData => ({
  myPatients: [],
  recent: [],
  query: '',
  results: null,
  resultsFor: '',
  chart: null,
  noteText: '',
  amendText: '',
  conflicts: [],
  audit: [],
  reviewQueue: [],
  reviewEpisode: null,
  recordingAccess: [],
});

export const createPatientSlice: StateCreator<EhrState, [], [], PatientSlice> = (set, get) => ({
  ...emptyPhi(),
  phiEpoch: 0,
  putPhi: (epoch, patch) => {
    const s = get();
    if (epoch !== s.phiEpoch || s.lock === 'locked' || s.user === null) return false;
    set(patch);
    return true;
  },
  clearPhi: () => set((s) => ({ ...emptyPhi(), phiEpoch: s.phiEpoch + 1 })),
});
