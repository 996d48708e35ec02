/**
 * What the access-rate monitor counts: one row per patient access, timed by the SERVER.
 * - source 'server': what this server served itself, keyed by the authenticated user — key
 *   unwraps beyond a workstation's first fetch of a care-team patient's keys (that fetch is the
 *   first sync filling its key cache, not a person reading), patient-scoped chart pulls, and
 *   break-glass grants;
 * - source 'device': chart reads a workstation reported in its signed audit chain, stored with
 *   the time the server RECEIVED them (`at`) beside the entry's own time (`reported_at`), so a
 *   burst back-dated by the device still lands in the current hour.
 */
import type { WireAuditEntry } from '../../src-shared/sync';
import type { Sql } from '../db/db';
import * as accessEvents from '../store/access-events';

export type ServerAccessKind = 'key-unwrap' | 'chart-pull' | 'break-glass';

export async function recordServerAccess(sql: Sql, e: { userId: string; patientId: string; deviceId: string; kind: ServerAccessKind }, now: Date): Promise<void> {
  await accessEvents.insertServerAccess(sql, e, now);
}

/** The entries that count as a person reading a chart (search listings do not: one per result, per keystroke). */
export const isChartRead = (e: WireAuditEntry): boolean => e.type === 'read' && e.action === 'R' && e.outcome === 'success' && !!e.patientId && !!e.userId;

export async function recordDeviceReads(sql: Sql, deviceId: string, entries: readonly WireAuditEntry[], receivedAt: Date): Promise<void> {
  const reads = entries.filter(isChartRead).map((e) => ({ userId: e.userId!, patientId: e.patientId!, at: e.at }));
  await accessEvents.insertDeviceReads(sql, deviceId, reads, receivedAt);
}

/**
 * Does this unwrap count? Not when it is the device's first successful fetch of a care-team
 * patient's keys for this user (the first sync); every other unwrap is someone opening a chart:
 * a patient reached through a break-glass grant, or keys fetched again.
 */
export async function unwrapCountsAsAccess(sql: Sql, userId: string, deviceId: string, patientId: string): Promise<boolean> {
  return (await accessEvents.unwrapsCountingAsAccess(sql, userId, deviceId, [patientId])).has(patientId);
}

/** unwrapCountsAsAccess for many patients in one query (the batch unwrap of a first sync): the ones that count. */
export { unwrapsCountingAsAccess } from '../store/access-events';
