/**
 * Retry delays for the outbox and the connectivity probe: exponential backoff with "full jitter"
 * (a random delay between 0 and min(cap, base * 2^attempt)), so that many workstations coming back
 * after an outage do not hit the server in lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** Random source in [0, 1); injectable so tests can check the bounds deterministically. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 5 * 60_000 };

/** Delay before the next attempt after `attempts` failures (attempts >= 1). */
export function backoffDelayMs(attempts: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const random = opts.random ?? Math.random;
  const exp = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  // Never zero: a floor of a tenth of the base keeps a broken server from being hammered.
  return Math.max(Math.floor(opts.baseMs / 10), Math.floor(random() * exp));
}
