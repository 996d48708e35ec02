/**
 * The session slice: who is signed in, and where the inactivity lock stands.
 *
 * Not PHI: a user's own name and roles are about the clinician, not a patient. The lock state
 * drives which tree the App renders: when `lock` is 'locked', no PHI screen is mounted at all
 * (see App.tsx), which is what makes "locked" mean "gone from the DOM".
 *
 * Times from main (lockAt, a grant's expiresAt) are on main's clock, which in tests is a fake one.
 * Countdowns therefore run on `coreOffsetMs`: main's clock minus ours, learnt from each answer
 * that tells us main's "now" (a heartbeat's new lockAt, a grant's startedAt).
 */
import type { StateCreator } from 'zustand';
import type { EhrState } from './store';
import type { LockReason, SessionStatus, UserInfo } from '../../src-shared/api/types';

export type SessionUser = UserInfo;

/** 'open': working; 'warning': the countdown before the lock shows; 'locked': PHI unmounted. */
export type LockState = 'open' | 'warning' | 'locked';

export interface SessionSlice {
  user: SessionUser | null;
  lock: LockState;
  /** Main-clock epoch ms at which main will lock (while 'warning'). */
  lockAt: number | null;
  lockReason: LockReason | null;
  /** Logged in with the offline verifier (no server at login). */
  offlineLogin: boolean;
  /** Main's clock minus the renderer's, in ms. */
  coreOffsetMs: number;
  lockTimeoutMinutes: number;
  lockWarningSeconds: number;
  /** Users with a session waiting on this workstation (locked in the background): names only, no PHI. */
  waitingSessions: Array<{ userId: string; username: string; displayName: string }>;
  signedIn(user: SessionUser): void;
  /** Mirror main's view of the session (after login, unlock, or a session.changed event). */
  applyStatus(status: SessionStatus): void;
  lockWarning(lockAt: number): void;
  /** Activity cancelled the warning. */
  warningCleared(): void;
  /** The lock fired (main told us, or our own timer did): drop every bit of PHI, then flip state. */
  locked(reason: LockReason): void;
  unlocked(): void;
  /** Logout: PHI and the user go, and everything that tied this user to patients. */
  signedOut(): void;
  learnCoreNow(coreNow: number, at?: number): void;
}

export const createSessionSlice: StateCreator<EhrState, [], [], SessionSlice> = (set, get) => ({
  user: null,
  lock: 'open',
  lockAt: null,
  lockReason: null,
  offlineLogin: false,
  coreOffsetMs: 0,
  lockTimeoutMinutes: 15,
  lockWarningSeconds: 60,
  waitingSessions: [],
  signedIn: (user) => set({ user, lock: 'open', lockAt: null, lockReason: null }),
  applyStatus: (status) => {
    const s = get();
    const front = status.user?.userId ?? null;
    set({
      waitingSessions: (status.sessions ?? [])
        .filter((x) => x.userId !== front)
        .map(({ userId, username, displayName }) => ({ userId, username, displayName })),
    });
    if (status.state === 'none' || !status.user) {
      if (s.user) s.signedOut();
      return;
    }
    // A different user in front (switch user): nothing of the previous one may stay.
    if (s.user && s.user.userId !== status.user.userId) s.signedOut();
    if (status.state === 'locked') {
      if (get().lock !== 'locked') get().locked('user');
      set({ user: status.user });
    } else {
      set({
        user: status.user,
        lock: status.state === 'warning' ? 'warning' : 'open',
        lockAt: status.state === 'warning' ? status.lockAt : null,
        lockReason: null,
      });
    }
    set({
      offlineLogin: status.offline,
      grants: status.breakGlass,
      lockTimeoutMinutes: status.lockTimeoutMinutes,
      lockWarningSeconds: status.lockWarningSeconds,
      videoVisits: status.videoVisits === true,
      visitRecording: status.videoVisits === true && status.visitRecording === true,
    });
  },
  lockWarning: (lockAt) => set((s) => (s.lock === 'locked' || !s.user ? {} : { lock: 'warning', lockAt })),
  warningCleared: () => set((s) => (s.lock === 'warning' ? { lock: 'open', lockAt: null } : {})),
  locked: (reason) => {
    get().clearPhi();
    set({ lock: 'locked', lockAt: null, lockReason: reason, breakGlassFor: null });
  },
  unlocked: () => set({ lock: 'open', lockAt: null, lockReason: null }),
  signedOut: () => {
    get().clearPhi();
    set({
      user: null, lock: 'open', lockAt: null, lockReason: null, offlineLogin: false,
      grants: [], breakGlassFor: null, screen: 'patients', patientId: null, recordId: null,
      // The visit belongs to the session that signed out (main ends it too).
      visit: null, videoVisits: false, visitRecording: false,
    });
  },
  learnCoreNow: (coreNow, at = Date.now()) => set({ coreOffsetMs: coreNow - at }),
});
