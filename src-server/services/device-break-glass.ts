/**
 * Break-glass taken on a workstation reaches the privacy officer through the device's audit chain.
 *
 * A workstation that breaks the glass OFFLINE grants access locally and writes a high-severity
 * `break-glass-start` entry into its signed chain; `break-glass-end` follows when the grant ends
 * (ended / expired / logout). When audit ingest accepts such entries (same transaction, after the
 * chain was verified and stored) this raises the privacy-officer alert, or records the end on it.
 *
 * Idempotent: a grant made ONLINE through POST /v1/break-glass already raised its alert, and its
 * device entry arrives later too. The client sends the same correlation id in the route's header
 * as in its audit entry, so the server's own `break-glass-start` audit row names it; failing that
 * (an older client), a server grant for the same user and patient within GRANT_WINDOW_MS of the
 * entry's time counts as the same grant. A device entry is raised at most once (device + seq).
 *
 * Ids and codes only: the reason code (checked against the known list), device, seq, correlation
 * id, times. An offline grant's free-text justification follows once this entry is ingested, through
 * POST /v1/break-glass/justification (offline-justification.ts), sealed and linked to this alert.
 */
import { BREAK_GLASS_REASONS } from '../../src-shared/policy';
import type { WireAuditEntry } from '../../src-shared/sync';
import type { Sql } from '../db/db';
import * as alerts from '../store/alerts';
import * as patients from '../store/patients';
import * as serverAudit from '../store/server-audit';
import { raiseAlert } from './alerts';

/** Clock skew tolerated between a workstation and the server when matching an online grant. */
export const GRANT_WINDOW_MS = 5 * 60_000;

const isStart = (e: WireAuditEntry) => e.type === 'break-glass-start' && e.outcome === 'success' && !!e.userId && !!e.patientId;
const isEnd = (e: WireAuditEntry) => e.type === 'break-glass-end' && e.outcome === 'success' && !!e.userId && !!e.patientId;
const reasonCode = (code: string | null | undefined): string =>
  code && (BREAK_GLASS_REASONS as readonly string[]).includes(code) ? code : 'unknown';
/** End causes the workstation writes (SessionManager): anything else is recorded as 'other'. */
const END_CAUSES = new Set(['ended', 'expired', 'logout']);

export interface DeviceBreakGlassReport {
  raised: number;
  online: number;
  closed: number;
  /** Ends that match no open grant of that user on this device: not applied (the caller alerts on the device). */
  refusedEnds: number;
}

/** Call inside the ingest transaction, with the entries just stored (seq order). */
export async function alertsFromDeviceAudit(sql: Sql, deviceId: string, entries: readonly WireAuditEntry[]): Promise<DeviceBreakGlassReport> {
  const report: DeviceBreakGlassReport = { raised: 0, online: 0, closed: 0, refusedEnds: 0 };
  for (const e of entries) {
    if (isStart(e)) {
      const outcome = await raiseForStart(sql, deviceId, e);
      if (outcome === 'raised') report.raised++;
      else if (outcome === 'online') report.online++;
    } else if (isEnd(e)) {
      if (await closeForEnd(sql, deviceId, e)) report.closed++;
      else report.refusedEnds++;
    }
  }
  return report;
}

async function raiseForStart(sql: Sql, deviceId: string, e: WireAuditEntry): Promise<'raised' | 'online' | 'known'> {
  if (await alerts.breakGlassOfEntry(sql, deviceId, e.seq)) return 'known';
  // The online grant must be this user's, made from this device (its server audit row names the device).
  const party = { userId: e.userId!, patientId: e.patientId!, deviceId };
  if (await serverAudit.hasBreakGlassStartWithCorrelation(sql, party, e.correlationId)) return 'online';
  const at = new Date(e.at).getTime();
  if (await serverAudit.hasBreakGlassStartBetween(sql, party, new Date(at - GRANT_WINDOW_MS), new Date(at + GRANT_WINDOW_MS))) return 'online';
  const flag = await patients.restrictedFlag(sql, e.patientId!);
  const restricted = flag ?? false;
  await raiseAlert(sql, {
    kind: 'break-glass',
    severity: restricted ? 'high' : 'medium',
    userId: e.userId,
    patientId: e.patientId ?? null,
    detail: {
      source: 'device', deviceId, seq: e.seq, correlationId: e.correlationId, reason: reasonCode(e.reasonCode),
      restricted, knownPatient: flag !== null, startedAt: new Date(at).toISOString(),
    },
  });
  return 'raised';
}

/**
 * Records the end on the newest open break-glass alert of that user and patient raised for a grant
 * on THIS device (online grants' alerts name the device they were made from): a device cannot
 * close another device's grant. False when there is none (the end is not applied).
 */
async function closeForEnd(sql: Sql, deviceId: string, e: WireAuditEntry): Promise<boolean> {
  const open = await alerts.openBreakGlassOnDevice(sql, e.userId!, e.patientId!, deviceId);
  if (!open) return false;
  const cause = e.reasonCode && END_CAUSES.has(e.reasonCode) ? e.reasonCode : 'other';
  await alerts.mergeDetail(sql, open, { endedAt: new Date(e.at).toISOString(), endReason: cause, endDeviceId: deviceId, endSeq: e.seq });
  return true;
}
