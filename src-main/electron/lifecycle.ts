/**
 * Lifecycle decisions, as pure functions over Electron-like objects:
 * - OS screen lock, suspend, fast user switch and system idle lock every session (core.lockNow);
 * - quitting flushes the outbox and closes the vault (core.close) before the process exits;
 * - a renderer crash or hang locks first, then reloads the window, which comes back on the lock
 *   screen because the core is locked: no PHI survives on screen.
 * The renderer's own timer is the first line; these are the main process's guarantee.
 */
import type { ShellCore } from './core-port';

export interface PowerMonitorLike {
  on(event: 'lock-screen' | 'suspend' | 'user-did-resign-active', listener: () => void): unknown;
  removeListener(event: 'lock-screen' | 'suspend' | 'user-did-resign-active', listener: () => void): unknown;
  /** Seconds since the last keyboard/mouse input anywhere on the system. */
  getSystemIdleTime(): number;
  /** 'locked' where the OS reports it: the only screen-lock signal on Linux ('lock-screen' is macOS/Windows). */
  getSystemIdleState?(idleThreshold: number): 'active' | 'idle' | 'locked' | 'unknown';
}

export interface TimerLike {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface PowerEventOptions {
  powerMonitor: PowerMonitorLike;
  core: Pick<ShellCore, 'lockNow'>;
  /** The effective inactivity timeout in seconds (policy, possibly shortened by the user). */
  idleLockSeconds: () => number;
  timer?: TimerLike;
  /** How often system idle time is sampled. */
  pollMs?: number;
  onError?: (e: unknown) => void;
}

/** Wires power events to core.lockNow; returns a dispose function. */
export function wirePowerEvents(opts: PowerEventOptions): () => void {
  const timer: TimerLike = opts.timer ?? {
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
  };
  const lock = (reason: 'idle' | 'screen-lock' | 'suspend') => {
    try {
      const r = opts.core.lockNow(reason);
      if (r instanceof Promise) r.catch((e: unknown) => opts.onError?.(e));
    } catch (e) {
      opts.onError?.(e);
    }
  };
  const onLockScreen = () => lock('screen-lock');
  const onSuspend = () => lock('suspend');
  opts.powerMonitor.on('lock-screen', onLockScreen);
  opts.powerMonitor.on('suspend', onSuspend);
  // macOS fast user switching: another user takes the console, so ours locks.
  opts.powerMonitor.on('user-did-resign-active', onLockScreen);

  // Lock once per idle (or screen-locked) stretch: after locking, wait until the user is back before
  // arming again, so a long absence is one lock, not one every poll.
  let armed = true;
  const handle = timer.setInterval(() => {
    const threshold = opts.idleLockSeconds();
    const screenLocked = opts.powerMonitor.getSystemIdleState?.(threshold) === 'locked';
    const idle = opts.powerMonitor.getSystemIdleTime() >= threshold;
    if (screenLocked || idle) {
      if (armed) {
        armed = false;
        lock(screenLocked ? 'screen-lock' : 'idle');
      }
    } else {
      armed = true;
    }
  }, opts.pollMs ?? 15_000);

  return () => {
    timer.clearInterval(handle);
    opts.powerMonitor.removeListener('lock-screen', onLockScreen);
    opts.powerMonitor.removeListener('suspend', onSuspend);
    opts.powerMonitor.removeListener('user-did-resign-active', onLockScreen);
  };
}

export interface QuitGuardOptions {
  core: Pick<ShellCore, 'close'>;
  /** app.quit(); called again once the core has closed. */
  quit: () => void;
  /** Upper bound on the flush: a dead network must not keep the app from quitting. */
  timeoutMs?: number;
  onError?: (e: unknown) => void;
}

/**
 * The 'before-quit' handler: the first quit is held (preventDefault) while the core flushes the
 * outbox (when online) and closes the vault; then it quits for real. A second quit while closing is
 * held too, so the vault is never torn down mid-transaction.
 */
export function createQuitGuard(opts: QuitGuardOptions): (event: { preventDefault(): void }) => void {
  let state: 'running' | 'closing' | 'closed' = 'running';
  return (event) => {
    if (state === 'closed') return;
    event.preventDefault();
    if (state === 'closing') return;
    state = 'closing';
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, opts.timeoutMs ?? 10_000);
    });
    Promise.race([opts.core.close(), deadline])
      .catch((e: unknown) => opts.onError?.(e))
      .finally(() => {
        clearTimeout(timeout);
        state = 'closed';
        opts.quit();
      });
  };
}

export interface RendererWatchOptions {
  core: Pick<ShellCore, 'lockNow'>;
  /** Loads the app entry again (the renderer starts on the lock screen: the core is locked). */
  reload: () => void;
  /** Kills a hung renderer so it cannot keep PHI painted (webContents.forcefullyCrashRenderer). */
  crashRenderer: () => void;
  /** Gives up (closes the window, quits) when the renderer keeps dying. */
  giveUp: () => void;
  /** A hang shorter than this is tolerated (a long render); then the renderer is killed. */
  hangGraceMs?: number;
  maxRestartsPerMinute?: number;
  now?: () => number;
  onError?: (e: unknown) => void;
}

export interface RendererWatch {
  /** webContents 'render-process-gone' (any reason, including a clean exit we did not ask for). */
  onGone(): void;
  onUnresponsive(): void;
  onResponsive(): void;
}

/** Crash and hang handling for the one window. */
export function createRendererWatch(opts: RendererWatchOptions): RendererWatch {
  const now = opts.now ?? Date.now;
  const restarts: number[] = [];
  let hangTimer: ReturnType<typeof setTimeout> | undefined;
  const lock = () => {
    try {
      const r = opts.core.lockNow('user');
      if (r instanceof Promise) r.catch((e: unknown) => opts.onError?.(e));
    } catch (e) {
      opts.onError?.(e);
    }
  };
  return {
    onGone() {
      if (hangTimer) clearTimeout(hangTimer);
      hangTimer = undefined;
      lock();
      const t = now();
      while (restarts.length && t - restarts[0]! > 60_000) restarts.shift();
      restarts.push(t);
      if (restarts.length > (opts.maxRestartsPerMinute ?? 3)) opts.giveUp();
      else opts.reload();
    },
    onUnresponsive() {
      // Lock at once: if the renderer recovers it receives 'session.locked' and clears itself.
      lock();
      if (hangTimer) return;
      hangTimer = setTimeout(() => {
        hangTimer = undefined;
        // Still hung: it cannot clear its DOM, so kill it; 'render-process-gone' then reloads it.
        opts.crashRenderer();
      }, opts.hangGraceMs ?? 5_000);
    },
    onResponsive() {
      if (hangTimer) clearTimeout(hangTimer);
      hangTimer = undefined;
    },
  };
}
