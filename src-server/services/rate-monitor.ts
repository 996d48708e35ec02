/**
 * Access-rate monitor: a user whose patient-record accesses in the last hour exceed `factor` times
 * their own trailing hourly average (and at least `minAccesses`) is suspended pending review, with
 * the reason recorded and a privacy-officer alert.
 *
 * Accesses = rows of access_events (services/access-events.ts): what the server served itself
 * (key unwraps beyond a first sync's, patient chart pulls, break-glass grants) and the chart reads
 * workstations reported, all windowed by the time the SERVER saw them — a device cannot back-date
 * a burst out of the current hour. A first sync's key fetches are not counted (they would suspend
 * every new user at once); search listings are not counted (one entry per result, per keystroke).
 */
import type { Sql } from '../db/db';
import type { ServerConfig } from '../context';
import * as accessEvents from '../store/access-events';
import * as users from '../store/users';
import { raiseAlert } from './alerts';
import { writeAudit } from './server-audit';

export interface RateVerdict {
  userId: string;
  lastHour: number;
  hourlyAverage: number;
  suspended: boolean;
}

export async function checkAccessRate(sql: Sql, userId: string, now: Date, cfg: ServerConfig['rateMonitor']): Promise<RateVerdict> {
  const hourAgo = new Date(now.getTime() - 3600_000);
  const windowStart = new Date(now.getTime() - cfg.trailingHours * 3600_000);
  const counts = await accessEvents.countsSince(sql, userId, hourAgo, windowStart);
  const lastHour = counts.recent;
  const hourlyAverage = counts.trailing / Math.max(1, cfg.trailingHours - 1);
  const spike = lastHour >= cfg.minAccesses && lastHour > cfg.factor * hourlyAverage;
  if (!spike) return { userId, lastHour, hourlyAverage, suspended: false };
  const reason = `access-rate: ${lastHour} patient accesses in the last hour, over ${cfg.factor}x the trailing hourly average of ${hourlyAverage.toFixed(2)}`;
  if (await users.suspendIfActive(sql, userId, reason)) {
    const detail = { lastHour, hourlyAverage: Number(hourlyAverage.toFixed(2)), factor: cfg.factor };
    await writeAudit(sql, { type: 'account-suspended', action: 'U', outcome: 'success', severity: 'high', userId, detail });
    await raiseAlert(sql, { kind: 'access-rate', severity: 'high', userId, detail });
  }
  return { userId, lastHour, hourlyAverage, suspended: true };
}
