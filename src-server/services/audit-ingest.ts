/**
 * Device audit ingest, inside one transaction: the device's row lock, the chain verified with the
 * shared chain code (seq continuity, prev hash, entry hash, checkpoint signatures), the users it
 * names checked against the sessions held on that device, then the batch stored append-only with
 * what follows from it (access events, late-report and quarantine alerts, break-glass alerts).
 * The route (routes/audit.ts) turns the refusals into answers and alerts.
 */
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { verifyChain } from '../../src-shared/node/audit-chain';
import { isQuarantinedLink } from '../../src-shared/audit';
import type { WireAuditEntry, WireAuditLink } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import * as deviceAudit from '../store/device-audit';
import * as devices from '../store/devices';
import { usersWithSessionSince } from '../store/sessions';
import { isChartRead, recordDeviceReads } from './access-events';
import { raiseAlert } from './alerts';
import { alertsFromDeviceAudit } from './device-break-glass';
import { parseDevicePublicKey } from './device-keys';

/** The chain does not continue what the server holds (or does not verify): 409, never stored. */
export type ChainRefusal = { problem: string; seq: number; lastSeq: number };
/** A chain that verifies, but reports what this device could not have seen: 403, never stored. */
export type ReportRefusal = { refused: 'user'; seq: number; lastSeq: number };
export type Ingested = { lastSeq: number; lastHash: string; refusedEnds: number };

/** Entries that claim a user acted on this device (a failed sign-in names whoever was tried, and claims nothing). */
const claimsUser = (e: WireAuditEntry): e is WireAuditEntry & { userId: string } => !!e.userId && !(e.type === 'login-failed' && e.outcome !== 'success');

/**
 * A quarantined entry's placeholder is stored as its link (seq, hashes) with type 'quarantined':
 * the chain stays gapless and verifiable, and the privacy officer is told (docs/sync.md).
 */
const toColumns = (e: WireAuditLink): WireAuditEntry => isQuarantinedLink(e)
  ? { deviceId: e.deviceId, seq: e.seq, prevHash: e.prevHash, hash: e.hash, at: e.at, action: 'E', type: 'quarantined' as WireAuditEntry['type'], outcome: 'failure', severity: 'high', userId: null, role: null, correlationId: `quarantined:${e.seq}`, reasonCode: e.reason }
  : e;

export async function ingestDeviceAudit(ctx: ServerContext, sql: Sql, deviceId: string, links: WireAuditLink[]): Promise<Ingested | ChainRefusal | ReportRefusal> {
  const now = ctx.now();
  // Row lock on the device: two requests of one device never interleave their chains.
  const publicKey = await devices.publicKeyForUpdate(sql, deviceId);
  if (!publicKey) throw new EhrError(ErrorCode.NOT_FOUND, 'No such device.', { deviceId });
  const after = await deviceAudit.head(sql, deviceId);
  // Placeholders of quarantined entries are links only (seq, hashes): they count for continuity,
  // and claim nothing about people or reads.
  const entries = links.filter((e): e is WireAuditEntry => !isQuarantinedLink(e));
  const first = links[0]!;
  if (after && first.seq <= after.seq) {
    // Entries the server holds, sent again: a retry if they are the same entries, a fork if any differs.
    const resent = links.filter((e) => e.seq <= after.seq);
    const stored = await deviceAudit.hashesAt(sql, deviceId, resent.map((e) => e.seq));
    const differs = resent.find((e) => stored.get(e.seq) !== e.hash);
    return { problem: differs ? 'fork' : 'replay', seq: differs?.seq ?? first.seq, lastSeq: after.seq };
  }
  const verdict = verifyChain(links, parseDevicePublicKey(publicKey), { after, deviceId });
  if (!verdict.ok) return { problem: verdict.problem, seq: verdict.seq, lastSeq: after?.seq ?? 0 };
  // The chain is the device's own; what it says about people is checked next. Workstations sign
  // in offline only with a verifier cached by a session, so a named user must hold or have held
  // one on this device within the offline window.
  const named = [...new Set(entries.filter(claimsUser).map((e) => e.userId))];
  const held = await usersWithSessionSince(sql, deviceId, named, new Date(now.getTime() - ctx.config.rateMonitor.offlineWindowHours * 3600_000));
  const stranger = entries.find((e) => claimsUser(e) && !held.has(e.userId));
  if (stranger) return { refused: 'user', seq: stranger.seq, lastSeq: after?.seq ?? 0 };
  await deviceAudit.append(sql, deviceId, links.map((sent) => ({ columns: toColumns(sent), sent })));
  for (const q of links.filter(isQuarantinedLink)) {
    await raiseAlert(sql, { kind: 'audit-quarantined', severity: 'high', userId: null, detail: { source: 'device', deviceId, seq: q.seq, reason: q.reason } });
  }
  await recordDeviceReads(sql, deviceId, entries, now);
  await flagLateReads(ctx, sql, deviceId, entries, now);
  // Break-glass taken on the workstation (offline too) reaches the privacy officer with the chain that proves it.
  const bg = await alertsFromDeviceAudit(sql, deviceId, entries);
  return { lastSeq: verdict.lastSeq, lastHash: verdict.lastHash, refusedEnds: bg.refusedEnds };
}

/** Reads whose entry time is far from when the server received them: one alert on the device per batch. */
async function flagLateReads(ctx: ServerContext, sql: Sql, deviceId: string, entries: readonly WireAuditEntry[], now: Date): Promise<void> {
  const limitMs = ctx.config.rateMonitor.lateReportMinutes * 60_000;
  const gaps = entries.filter(isChartRead).map((e) => Math.abs(now.getTime() - new Date(e.at).getTime())).filter((g) => g > limitMs);
  if (gaps.length === 0) return;
  await raiseAlert(sql, {
    kind: 'late-audit-report', severity: 'medium', userId: null,
    detail: { deviceId, entries: gaps.length, maxGapMinutes: Math.round(Math.max(...gaps) / 60_000), limitMinutes: ctx.config.rateMonitor.lateReportMinutes },
  });
}
