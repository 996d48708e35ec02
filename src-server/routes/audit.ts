/** Device audit ingest: verify signature and continuity with the shared chain code, store append-only. */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { verifyChain } from '../../src-shared/node/audit-chain';
import { isQuarantinedLink } from '../../src-shared/audit';
import { ROUTES, type WireAuditEntry, type WireAuditLink } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { defineRoute } from '../http/route';
import { parseDevicePublicKey } from '../services/device-keys';
import { alertsFromDeviceAudit } from '../services/device-break-glass';
import { checkAccessRate } from '../services/rate-monitor';
import { isChartRead, recordDeviceReads } from '../services/access-events';
import { raiseAlert } from '../services/alerts';
import type { Principal } from '../services/tokens';
import type { SafeDetail } from '../../src-shared/errors';
import { writeAudit } from '../services/server-audit';

type Refusal = { problem: string; seq: number; lastSeq: number };
/** A chain that verifies, but reports what this device could not have seen: 403, never stored. */
type ReportRefusal = { refused: 'user'; seq: number; lastSeq: number };

/** Entries that claim a user acted on this device (a failed sign-in names whoever was tried, and claims nothing). */
const claimsUser = (e: WireAuditEntry): e is WireAuditEntry & { userId: string } => !!e.userId && !(e.type === 'login-failed' && e.outcome !== 'success');

/**
 * Users who hold, or held within the offline window, a session on this device: a refresh family
 * of (user, device) still alive then (not revoked before it, its newest refresh token not yet
 * expired). Workstations sign in offline only with a verifier cached by such a session.
 */
async function sessionUsers(sql: Sql, deviceId: string, userIds: string[], since: Date): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await sql.query<{ user_id: string }>(
    `SELECT DISTINCT f.user_id FROM refresh_families f
      WHERE f.device_id = $1 AND f.user_id = ANY($2::text[])
        AND COALESCE(f.revoked_at, (SELECT max(t.expires_at) FROM refresh_tokens t WHERE t.family_id = f.id), f.created_at) > $3`,
    [deviceId, userIds, since],
  );
  return new Set(rows.map((r) => r.user_id));
}

async function ingest(ctx: ServerContext, sql: Sql, deviceId: string, links: WireAuditLink[]): Promise<{ lastSeq: number; lastHash: string; refusedEnds: number } | Refusal | ReportRefusal> {
  const now = ctx.now();
  // Row lock on the device: two requests of one device never interleave their chains.
  const [device] = await sql.query<{ public_key: string }>('SELECT public_key FROM devices WHERE id = $1 FOR UPDATE', [deviceId]);
  if (!device) throw new EhrError(ErrorCode.NOT_FOUND, 'No such device.', { deviceId });
  const [head] = await sql.query<{ head_seq: string; hash: string }>(
    'SELECT seq::text AS head_seq, hash FROM device_audit WHERE device_id = $1 ORDER BY device_audit.seq DESC LIMIT 1',
    [deviceId],
  );
  const after = head ? { seq: Number(head.head_seq), hash: head.hash } : null;
  // Placeholders of quarantined entries are links only (seq, hashes): they count for continuity,
  // and claim nothing about people or reads.
  const entries = links.filter((e): e is WireAuditEntry => !isQuarantinedLink(e));
  const first = links[0]!;
  if (after && first.seq <= after.seq) {
    // Entries the server holds, sent again: a retry if they are the same entries, a fork if any differs.
    const resent = links.filter((e) => e.seq <= after.seq);
    const stored = new Map(
      (await sql.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM device_audit WHERE device_id = $1 AND seq = ANY($2::bigint[])', [deviceId, resent.map((e) => e.seq)]))
        .map((r) => [Number(r.seq), r.hash]),
    );
    const differs = resent.find((e) => stored.get(e.seq) !== e.hash);
    return { problem: differs ? 'fork' : 'replay', seq: differs?.seq ?? first.seq, lastSeq: after.seq };
  }
  const verdict = verifyChain(links, parseDevicePublicKey(device.public_key), { after, deviceId });
  if (!verdict.ok) return { problem: verdict.problem, seq: verdict.seq, lastSeq: after?.seq ?? 0 };
  // The chain is the device's own; what it says about people is checked next.
  const named = [...new Set(entries.filter(claimsUser).map((e) => e.userId))];
  const held = await sessionUsers(sql, deviceId, named, new Date(now.getTime() - ctx.config.rateMonitor.offlineWindowHours * 3600_000));
  const stranger = entries.find((e) => claimsUser(e) && !held.has(e.userId));
  if (stranger) return { refused: 'user', seq: stranger.seq, lastSeq: after?.seq ?? 0 };
  // A quarantined entry's placeholder is stored as its link (seq, hashes) with type 'quarantined':
  // the chain stays gapless and verifiable, and the privacy officer is told (docs/sync.md).
  const row = (e: WireAuditLink): WireAuditEntry => isQuarantinedLink(e)
    ? { deviceId: e.deviceId, seq: e.seq, prevHash: e.prevHash, hash: e.hash, at: e.at, action: 'E', type: 'quarantined' as WireAuditEntry['type'], outcome: 'failure', severity: 'high', userId: null, role: null, correlationId: `quarantined:${e.seq}`, reasonCode: e.reason }
    : e;
  const rows = links.map(row);
  const col = <T>(f: (e: WireAuditEntry) => T) => rows.map(f);
  await sql.query(
    `INSERT INTO device_audit (device_id, seq, hash, prev_hash, at, type, action, outcome, severity, user_id, patient_id, correlation_id, entry)
     SELECT $1, s, h, p, a, t, ac, o, sv, u, pt, c, e::jsonb
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         AS x(s, h, p, a, t, ac, o, sv, u, pt, c, e)`,
    [
      deviceId, col((e) => e.seq), col((e) => e.hash), col((e) => e.prevHash), col((e) => e.at), col((e) => e.type), col((e) => e.action),
      col((e) => e.outcome), col((e) => e.severity), col((e) => e.userId), col((e) => e.patientId ?? null), col((e) => e.correlationId),
      links.map((e) => JSON.stringify(e)),
    ],
  );
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

export function auditRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    /** Every refusal of a forged or impossible report is audited AND put before the privacy officer, against the device. */
    const refuse = async (principal: Principal, correlationId: string, kind: 'audit-chain-refused' | 'device-report-refused', detail: SafeDetail): Promise<void> => {
      await writeAudit(ctx.db, {
        type: kind === 'audit-chain-refused' ? 'audit-chain-rejected' : 'device-report-refused', action: 'E', outcome: 'denied', severity: 'high',
        userId: principal.userId, deviceId: principal.deviceId, correlationId, detail,
      });
      // userId null: the device is named, never a user the report names (nor the one whose token carried it).
      await raiseAlert(ctx.db, { kind, severity: 'high', userId: null, detail: { deviceId: principal.deviceId, reportedBy: principal.userId, ...detail } });
    };

    defineRoute(app, ctx, ROUTES.auditIngest, async ({ body, principal, correlationId }) => {
      if (body.deviceId !== principal.deviceId) {
        await refuse(principal, correlationId, 'audit-chain-refused', { problem: 'device', claimedDeviceId: body.deviceId });
        throw new EhrError(ErrorCode.FORBIDDEN, 'A device may only send its own audit chain.', { deviceId: body.deviceId });
      }
      const result = await ctx.db.tx((sql) => ingest(ctx, sql, body.deviceId, body.entries));
      if ('refused' in result) {
        await refuse(principal, correlationId, 'device-report-refused', { problem: 'user', seq: result.seq, lastSeq: result.lastSeq });
        throw new EhrError(ErrorCode.FORBIDDEN, `Audit batch refused: seq ${result.seq} names a user with no session on this device.`, { problem: 'user', seq: result.seq, lastSeq: result.lastSeq });
      }
      if ('problem' in result) {
        // A retry of entries already held (identical) is no attack: audited, not alerted.
        if (result.problem === 'replay') {
          await writeAudit(ctx.db, {
            type: 'audit-chain-rejected', action: 'E', outcome: 'denied', severity: 'medium', userId: principal.userId,
            deviceId: body.deviceId, correlationId, detail: result,
          });
        } else {
          await refuse(principal, correlationId, 'audit-chain-refused', result);
        }
        throw new EhrError(ErrorCode.INTEGRITY, `Audit batch refused: ${result.problem} at seq ${result.seq}.`, result);
      }
      if (result.refusedEnds > 0) {
        await refuse(principal, correlationId, 'device-report-refused', { problem: 'break-glass-end', entries: result.refusedEnds });
      }
      const readers = new Set(body.entries.filter((e): e is WireAuditEntry => !isQuarantinedLink(e)).filter(isChartRead).map((e) => e.userId!));
      for (const userId of readers) await checkAccessRate(ctx.db, userId, ctx.now(), ctx.config.rateMonitor);
      return { accepted: body.entries.length, lastSeq: result.lastSeq, lastHash: result.lastHash };
    });
  };
}
