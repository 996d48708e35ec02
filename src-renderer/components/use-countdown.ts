/**
 * Seconds left until a deadline on main's clock, ticking once a second. `coreOffsetMs` converts
 * main's clock to ours (main runs on a fake clock in the e2e tests).
 */
import { useEffect, useState } from 'react';

export function secondsLeft(deadline: number, coreOffsetMs: number, now = Date.now()): number {
  return Math.max(0, Math.ceil((deadline - (now + coreOffsetMs)) / 1000));
}

export function useCountdown(deadline: number | null, coreOffsetMs: number): number | null {
  const [, tick] = useState(0);
  useEffect(() => {
    if (deadline === null) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [deadline]);
  return deadline === null ? null : secondsLeft(deadline, coreOffsetMs);
}

export function formatSeconds(total: number): string {
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
