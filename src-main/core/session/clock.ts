/**
 * Time, injectable. The session's lock and break-glass timers run on a Clock so tests drive them
 * with a fake one (the lock fires at the policy minute, not a millisecond before) instead of waiting.
 */

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

const liveTimers = new Map<number, NodeJS.Timeout>();
let nextSystemTimerId = 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const id = nextSystemTimerId++;
    const t = setTimeout(() => {
      liveTimers.delete(id);
      fn();
    }, Math.max(0, ms));
    // A pending lock timer must not keep a test runner or a closing app alive.
    t.unref();
    liveTimers.set(id, t);
    return { id };
  },
  clearTimeout(handle) {
    clearTimeout(liveTimers.get(handle.id));
    liveTimers.delete(handle.id);
  },
};

/** A manual clock: time moves only when `advance` is called, firing due timers in order. */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 5, 8, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Moves time forward by `ms`, running each timer that falls due at its own instant. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = next[1].at;
      next[1].fn();
    }
    this.current = end;
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
