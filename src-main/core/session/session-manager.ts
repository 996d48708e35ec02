/**
 * The session state machine of the main process: no session -> active -> warning -> locked, per
 * user, several users on one workstation (only one in front; the others wait locked in the
 * background), switch user and logout. It is the guarantee behind the renderer's own timer: when it
 * says locked, every data call is refused, whatever the renderer shows.
 *
 * Time comes from an injectable Clock. One timer per front session aims at the next deadline
 * (warning, then lock); a heartbeat only moves `lastActivityAt`, and a timer that fires before the
 * moved deadline simply re-aims, so heartbeats cost no timer churn.
 */
import { randomUUID } from 'node:crypto';
import type { CareTeamSnapshot } from '../../../src-shared/access';
import type { BreakGlassGrant, EhrEvent, LockReason, SessionState, SessionStatus, UserInfo } from '../../../src-shared/api';
import { MAX_LOCK_TIMEOUT_MINUTES, type Policy } from '../../../src-shared/policy';
import type { Clock, TimerHandle } from './clock';

/** How long before a break-glass grant ends the renderer is warned (or at once, if shorter). */
export const BREAK_GLASS_WARNING_MS = 5 * 60_000;

export interface UserSession {
  readonly sessionId: string;
  readonly user: UserInfo;
  state: Exclude<SessionState, 'none'>;
  offline: boolean;
  careTeam: CareTeamSnapshot;
  lastActivityAt: number;
  lockedReason: LockReason | null;
  /** Active break-glass grants by patient id. */
  readonly breakGlass: Map<string, BreakGlassGrant>;
  /** Whatever the online login returned for talking to the server (tokens): memory only. */
  serverAuth: unknown;
}

export type BreakGlassEndCause = 'expired' | 'ended' | 'logout';

/** What the session tells the rest of main (the audit writer, the shell's event pump). */
export interface SessionHooks {
  emit(event: EhrEvent): void;
  onLocked?(session: UserSession, reason: LockReason): void;
  onBreakGlassEnded?(session: UserSession, grant: BreakGlassGrant, cause: BreakGlassEndCause): void;
}

export interface SessionManagerOptions {
  clock: Clock;
  policy: Pick<Policy, 'lockTimeoutMinutes' | 'lockWarningSeconds'> & Partial<Pick<Policy, 'videoVisits' | 'visitRecording'>>;
  hooks: SessionHooks;
}

export class SessionManager {
  private readonly sessions = new Map<string, UserSession>();
  private frontUserId: string | null = null;
  private lockTimer: TimerHandle | null = null;
  private readonly grantTimers = new Map<string, TimerHandle[]>();
  /**
   * Grants that have ended (expiry, revoke or logout, whichever came first). A grant ends once:
   * the server may still list it as running (its own clock, a longer duration than the local cap),
   * but /v1/me or the next login must not bring it back only to end it, and audit it, a second time.
   */
  private readonly endedGrants = new Set<string>();
  /** Never above 15 minutes, whatever the policy file says. */
  readonly lockTimeoutMs: number;
  readonly warningMs: number;

  constructor(private readonly opts: SessionManagerOptions) {
    const minutes = Math.min(opts.policy.lockTimeoutMinutes, MAX_LOCK_TIMEOUT_MINUTES);
    this.lockTimeoutMs = Math.max(1, minutes) * 60_000;
    // The warning can never come before the session has been idle at all.
    this.warningMs = Math.min(opts.policy.lockWarningSeconds * 1000, this.lockTimeoutMs - 1000);
  }

  get front(): UserSession | null {
    return this.frontUserId ? (this.sessions.get(this.frontUserId) ?? null) : null;
  }

  sessionOf(userId: string): UserSession | null {
    return this.sessions.get(userId) ?? null;
  }

  /** Patients any signed-in user holds a running break-glass grant for (their charts stay cached). */
  activeBreakGlassPatientIds(): string[] {
    return [...this.sessions.values()].flatMap((s) => [...s.breakGlass.keys()]);
  }

  /**
   * Puts a freshly authenticated user in front. The session in front, if it is someone else's,
   * is locked and kept in the background; the same user's existing session is resumed (its
   * break-glass grants and drafts are still theirs).
   */
  begin(user: UserInfo, init: { offline: boolean; careTeam: CareTeamSnapshot; serverAuth?: unknown }): UserSession {
    const prev = this.front;
    if (prev && prev.user.userId !== user.userId && prev.state !== 'locked') this.lockSession(prev, 'switch-user');
    let s = this.sessions.get(user.userId);
    if (!s) {
      s = {
        sessionId: randomUUID(),
        user,
        state: 'active',
        offline: init.offline,
        careTeam: init.careTeam,
        lastActivityAt: this.opts.clock.now(),
        lockedReason: null,
        breakGlass: new Map(),
        serverAuth: init.serverAuth ?? null,
      };
      this.sessions.set(user.userId, s);
    } else {
      s.offline = init.offline;
      s.careTeam = init.careTeam;
      if (init.serverAuth !== undefined) s.serverAuth = init.serverAuth;
    }
    this.frontUserId = user.userId;
    this.activate(s);
    return s;
  }

  /** Unlocks the front session after auth has checked the password again. */
  unlockFront(): UserSession | null {
    const s = this.front;
    if (!s) return null;
    this.activate(s);
    return s;
  }

  private activate(s: UserSession): void {
    const wasLocked = s.state === 'locked';
    s.state = 'active';
    s.lockedReason = null;
    s.lastActivityAt = this.opts.clock.now();
    this.aimTimer();
    if (wasLocked) this.opts.hooks.emit({ event: 'session.unlocked', payload: { userId: s.user.userId } });
    this.changed();
  }

  /** Renderer activity. Ignored when locked: only the password unlocks. */
  heartbeat(): number | null {
    const s = this.front;
    if (!s || s.state === 'locked') return null;
    s.lastActivityAt = this.opts.clock.now();
    if (s.state === 'warning') {
      s.state = 'active';
      this.changed();
    }
    return this.lockAt(s);
  }

  /**
   * Locks the front session if its idle deadline has passed, whether or not the timer has run yet
   * (a busy event loop can delay it). The dispatcher calls this before every guarded call.
   */
  enforceDeadline(): void {
    const s = this.front;
    if (s && s.state !== 'locked' && this.opts.clock.now() >= this.lockAt(s)) {
      this.lockSession(s, 'idle');
      this.changed();
    }
  }

  /** Locks the front session now (idle timer, OS screen lock, suspend, the user's own button). */
  lock(reason: LockReason): boolean {
    const s = this.front;
    if (!s || s.state === 'locked') return false;
    this.lockSession(s, reason);
    this.changed();
    return true;
  }

  /**
   * The one place a session locks. What it drops: the lock timer; the right to any data call (every
   * handler checks `state`); the renderer's PHI (the `session.locked` event tells it to clear its
   * store and unmount the chart). Main holds no decrypted chart cache to drop: handlers read the
   * vault per call. Server tokens stay, so sync keeps pushing queued writes while the screen is locked.
   */
  private lockSession(s: UserSession, reason: LockReason): void {
    s.state = 'locked';
    s.lockedReason = reason;
    if (s.user.userId === this.frontUserId) this.clearLockTimer();
    this.opts.hooks.emit({ event: 'session.locked', payload: { reason, userId: s.user.userId } });
    this.opts.hooks.onLocked?.(s, reason);
  }

  /** Locks the front session and steps it back, so the login screen lets another user in. */
  switchUser(): void {
    const s = this.front;
    if (!s) return;
    if (s.state !== 'locked') this.lockSession(s, 'switch-user');
    this.frontUserId = null;
    this.changed();
  }

  /** Makes a background session the front one (still locked: its user must unlock it). */
  bringToFront(userId: string): UserSession | null {
    const s = this.sessions.get(userId);
    if (!s) return null;
    const prev = this.front;
    if (prev && prev !== s && prev.state !== 'locked') this.lockSession(prev, 'switch-user');
    this.frontUserId = userId;
    this.changed();
    return s;
  }

  /** Ends the front session: its grants end (audited), the session is forgotten. */
  logout(): UserSession | null {
    const s = this.front;
    if (!s) return null;
    for (const g of [...s.breakGlass.values()]) this.endBreakGlass(s, g.patientId, 'logout');
    this.clearLockTimer();
    this.sessions.delete(s.user.userId);
    this.frontUserId = null;
    this.changed();
    return s;
  }

  // --- break-glass ------------------------------------------------------------------------------

  /** Starts a grant's access and timers. A grant that already ended is not started again (false). */
  addBreakGlass(s: UserSession, grant: BreakGlassGrant): boolean {
    if (this.endedGrants.has(grant.grantId)) return false;
    // The same grant again (a restore racing a request): it is already running, nothing to restart.
    if (s.breakGlass.get(grant.patientId)?.grantId === grant.grantId) return true;
    this.endBreakGlass(s, grant.patientId, 'ended');
    s.breakGlass.set(grant.patientId, grant);
    const now = this.opts.clock.now();
    const timers: TimerHandle[] = [];
    const warnAt = Math.max(now, grant.expiresAt - BREAK_GLASS_WARNING_MS);
    timers.push(
      this.opts.clock.setTimeout(() => {
        if (s.breakGlass.get(grant.patientId) === grant)
          this.opts.hooks.emit({ event: 'breakGlass.expiring', payload: { patientId: grant.patientId, expiresAt: grant.expiresAt } });
      }, warnAt - now),
    );
    timers.push(
      this.opts.clock.setTimeout(() => {
        if (s.breakGlass.get(grant.patientId) === grant) this.endBreakGlass(s, grant.patientId, 'expired');
      }, grant.expiresAt - now),
    );
    this.grantTimers.set(grant.grantId, timers);
    this.changed();
    return true;
  }

  /** Whether this grant has ended on this workstation (it is never started or ended again). */
  hasEnded(grantId: string): boolean {
    return this.endedGrants.has(grantId);
  }

  /**
   * The unexpired grant for this patient, or null. Checked against the clock on every call, so
   * access ends at `expiresAt` even if the expiry timer has not run yet.
   */
  activeBreakGlass(s: UserSession, patientId: string): BreakGlassGrant | null {
    const g = s.breakGlass.get(patientId);
    if (!g) return null;
    // Written so that a malformed expiry (NaN) counts as expired, never as forever.
    if (!(g.expiresAt > this.opts.clock.now())) {
      this.endBreakGlass(s, patientId, 'expired');
      return null;
    }
    return g;
  }

  endBreakGlass(s: UserSession, patientId: string, cause: BreakGlassEndCause): boolean {
    const g = s.breakGlass.get(patientId);
    if (!g) return false;
    s.breakGlass.delete(patientId);
    for (const t of this.grantTimers.get(g.grantId) ?? []) this.opts.clock.clearTimeout(t);
    this.grantTimers.delete(g.grantId);
    if (this.endedGrants.has(g.grantId)) {
      // Defensive: a grant that somehow came back after its end is dropped without a second end.
      this.changed();
      return false;
    }
    this.endedGrants.add(g.grantId);
    this.opts.hooks.emit({ event: 'breakGlass.expired', payload: { patientId, grantId: g.grantId } });
    this.opts.hooks.onBreakGlassEnded?.(s, g, cause);
    this.changed();
    return true;
  }

  // --- timers -----------------------------------------------------------------------------------

  private lockAt(s: UserSession): number {
    return s.lastActivityAt + this.lockTimeoutMs;
  }

  private warningAt(s: UserSession): number {
    return this.lockAt(s) - this.warningMs;
  }

  private clearLockTimer(): void {
    if (this.lockTimer) this.opts.clock.clearTimeout(this.lockTimer);
    this.lockTimer = null;
  }

  /** Aims the one timer at the front session's next deadline. */
  private aimTimer(): void {
    this.clearLockTimer();
    const s = this.front;
    if (!s || s.state === 'locked') return;
    const target = s.state === 'active' ? this.warningAt(s) : this.lockAt(s);
    this.lockTimer = this.opts.clock.setTimeout(() => this.onTimer(s), target - this.opts.clock.now());
  }

  private onTimer(s: UserSession): void {
    this.lockTimer = null;
    if (this.front !== s || s.state === 'locked') return;
    const now = this.opts.clock.now();
    if (now >= this.lockAt(s)) {
      this.lockSession(s, 'idle');
      this.changed();
      return;
    }
    if (s.state === 'active' && now >= this.warningAt(s)) {
      s.state = 'warning';
      const lockAt = this.lockAt(s);
      this.opts.hooks.emit({ event: 'session.lockWarning', payload: { lockAt, secondsLeft: Math.round((lockAt - now) / 1000) } });
      this.changed();
    }
    this.aimTimer();
  }

  // --- status -----------------------------------------------------------------------------------

  status(): SessionStatus {
    const s = this.front;
    const live = s && s.state !== 'locked';
    return {
      state: s ? s.state : 'none',
      user: s ? s.user : null,
      lockAt: live ? this.lockAt(s) : null,
      warningAt: live ? this.warningAt(s) : null,
      offline: s ? s.offline : false,
      breakGlass: s && live ? [...s.breakGlass.values()] : [],
      sessions: [...this.sessions.values()].map((x) => ({
        userId: x.user.userId,
        username: x.user.username,
        displayName: x.user.displayName,
        state: x.state,
      })),
      lockTimeoutMinutes: this.lockTimeoutMs / 60_000,
      lockWarningSeconds: this.warningMs / 1000,
      videoVisits: this.opts.policy.videoVisits ?? true,
      visitRecording: (this.opts.policy.videoVisits ?? true) && (this.opts.policy.visitRecording ?? true),
    };
  }

  private changed(): void {
    this.opts.hooks.emit({ event: 'session.changed', payload: this.status() });
  }

  /** Stops every timer (workstation close). Sessions are not audited as logouts here. */
  close(): void {
    this.clearLockTimer();
    for (const ts of this.grantTimers.values()) for (const t of ts) this.opts.clock.clearTimeout(t);
    this.grantTimers.clear();
  }
}
