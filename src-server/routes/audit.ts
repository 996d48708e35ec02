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
import { writeAudit } from '../services/server-audit';
import { raiseAlert } from '../services/alerts';

type Refusal = { problem: string; seq: number; lastSeq: number };

async function ingest(sql: Sql, deviceId: string, entries: WireAuditLink[]): Promise<{ lastSeq: number; lastHash: string } | Refusal> {
  // Row lock on the device: two requests of one device never interleave their chains.
  const [device] = await sql.query<{ public_key: string }>('SELECT public_key FROM devices WHERE id = $1 FOR UPDATE', [deviceId]);
  if (!device) throw new EhrError(ErrorCode.NOT_FOUND, 'No such device.', { deviceId });
  const [head] = await sql.query<{ head_seq: string; hash: string }>(
    'SELECT seq::text AS head_seq, hash FROM device_audit WHERE device_id = $1 ORDER BY device_audit.seq DESC LIMIT 1',
    [deviceId],
  );
  const after = head ? { seq: Number(head.head_seq), hash: head.hash } : null;
  const first = entries[0]!;
  if (after && first.seq <= after.seq) return { problem: 'replay', seq: first.seq, lastSeq: after.seq };
  const verdict = verifyChain(entries, parseDevicePublicKey(device.public_key), { after, deviceId });
  if (!verdict.ok) return { problem: verdict.problem, seq: verdict.seq, lastSeq: after?.seq ?? 0 };
  // A quarantined entry's placeholder is stored as its link (seq, hashes) with type 'quarantined':
  // the chain stays gapless and verifiable, and the privacy officer is told (docs/sync.md).
  const row = (e: WireAuditLink): WireAuditEntry => isQuarantinedLink(e)
    ? { deviceId: e.deviceId, seq: e.seq, prevHash: e.prevHash, hash: e.hash, at: e.at, action: 'E', type: 'quarantined' as WireAuditEntry['type'], outcome: 'failure', severity: 'high', userId: null, role: null, correlationId: `quarantined:${e.seq}`, reasonCode: e.reason }
    : e;
  const rows = entries.map(row);
  const col = <T>(f: (e: WireAuditEntry) => T) => rows.map(f);
  await sql.query(
    `INSERT INTO device_audit (device_id, seq, hash, prev_hash, at, type, action, outcome, severity, user_id, patient_id, correlation_id, entry)
     SELECT $1, s, h, p, a, t, ac, o, sv, u, pt, c, e::jsonb
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
         AS x(s, h, p, a, t, ac, o, sv, u, pt, c, e)`,
    [
      deviceId, col((e) => e.seq), col((e) => e.hash), col((e) => e.prevHash), col((e) => e.at), col((e) => e.type), col((e) => e.action),
      col((e) => e.outcome), col((e) => e.severity), col((e) => e.userId), col((e) => e.patientId ?? null), col((e) => e.correlationId),
      entries.map((e) => JSON.stringify(e)),
    ],
  );
  for (const q of entries.filter(isQuarantinedLink)) {
    await raiseAlert(sql, { kind: 'audit-quarantined', severity: 'high', detail: { source: 'device', deviceId, seq: q.seq, reason: q.reason } });
  }
  // Break-glass taken on the workstation (offline too) reaches the privacy officer with the chain that proves it.
  await alertsFromDeviceAudit(sql, deviceId, entries.filter((e): e is WireAuditEntry => !isQuarantinedLink(e)));
  return { lastSeq: verdict.lastSeq, lastHash: verdict.lastHash };
}

export function auditRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.auditIngest, async ({ body, principal, correlationId }) => {
      if (body.deviceId !== principal.deviceId) {
        throw new EhrError(ErrorCode.FORBIDDEN, 'A device may only send its own audit chain.', { deviceId: body.deviceId });
      }
      const result = await ctx.db.tx((sql) => ingest(sql, body.deviceId, body.entries));
      if ('problem' in result) {
        await writeAudit(ctx.db, {
          type: 'audit-chain-rejected', action: 'E', outcome: 'denied', severity: 'high', userId: principal.userId,
          deviceId: body.deviceId, correlationId, detail: result,
        });
        throw new EhrError(ErrorCode.INTEGRITY, `Audit batch refused: ${result.problem} at seq ${result.seq}.`, result);
      }
      const readers = new Set(body.entries.flatMap((e) => (!isQuarantinedLink(e) && e.action === 'R' && e.patientId && e.userId ? [e.userId] : [])));
      for (const userId of readers) await checkAccessRate(ctx.db, userId, ctx.now(), ctx.config.rateMonitor);
      return { accepted: body.entries.length, ...result };
    });
  };
}
