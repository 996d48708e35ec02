/** Device audit ingest: the device's own chain only; refusals audited and alerted against the device (services/audit-ingest.ts does the checks). */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode, type SafeDetail } from '../../src-shared/errors';
import { isQuarantinedLink } from '../../src-shared/audit';
import { ROUTES, type WireAuditEntry } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { isChartRead } from '../services/access-events';
import { raiseAlert } from '../services/alerts';
import { ingestDeviceAudit } from '../services/audit-ingest';
import { checkAccessRate } from '../services/rate-monitor';
import { writeAudit } from '../services/server-audit';
import type { Principal } from '../services/tokens';

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
      const result = await ctx.db.tx((sql) => ingestDeviceAudit(ctx, sql, body.deviceId, body.entries));
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
