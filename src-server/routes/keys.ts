/** Key service routes: wrap a client-created patient data key; unwrap for callers allowed to see the patient. Every access audited. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { canSeeOrRegister, canSeePatient } from '../services/access';
import { writeAudit } from '../services/server-audit';
import { recordServerAccess, unwrapCountsAsAccess } from '../services/access-events';
import { mayWriteRecords } from '../services/push';
import { checkAccessRate } from '../services/rate-monitor';
import { dataKeyAad } from '../keys/sealed';
import type { Principal } from '../services/tokens';

export function keyRoutes(ctx: ServerContext) {
  const denied = async (who: Principal, patientId: string, correlationId: string, route: string): Promise<never> => {
    await writeAudit(ctx.db, {
      type: 'access-denied', action: 'R', outcome: 'denied', severity: 'high', userId: who.userId, deviceId: who.deviceId,
      patientId, correlationId, detail: { route },
    });
    throw new EhrError(ErrorCode.FORBIDDEN, 'This patient is outside your care teams; use break-glass if clinically needed.', { patientId });
  };

  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.wrapKey, async ({ body, principal, correlationId }) => {
      const key = Buffer.from(body.dataKey, 'base64url');
      if (key.length !== 32) throw new EhrError(ErrorCode.INVALID, 'A data key is 32 bytes.');
      const aad = dataKeyAad(body.patientId, body.keyId);
      const outcome = await ctx.db.tx(async (sql) => {
        // Role before anything that could register a patient: only clinicians create data keys.
        if (!mayWriteRecords(principal) || !(await canSeeOrRegister(sql, principal.userId, body.patientId, ctx.now()))) return 'denied' as const;
        const wrapped = await ctx.keys.wrap(key, aad);
        const inserted = await sql.query<{ created_at: Date }>(
          'INSERT INTO data_keys (patient_id, key_id, wrapped, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING created_at',
          [body.patientId, body.keyId, wrapped, principal.userId],
        );
        if (inserted[0]) return inserted[0].created_at;
        const [existing] = await sql.query<{ wrapped: string; created_at: Date }>('SELECT wrapped, created_at FROM data_keys WHERE patient_id = $1 AND key_id = $2', [body.patientId, body.keyId]);
        const same = timingSafeEqual(await ctx.keys.unwrap(existing!.wrapped, aad), key);
        return same ? existing!.created_at : ('conflict' as const);
      });
      if (outcome === 'denied') return denied(principal, body.patientId, correlationId, 'keys/wrap');
      await writeAudit(ctx.db, {
        type: 'key-wrap', action: 'C', outcome: outcome === 'conflict' ? 'failure' : 'success', severity: 'info',
        userId: principal.userId, deviceId: principal.deviceId, patientId: body.patientId, correlationId, detail: { keyId: body.keyId },
      });
      if (outcome === 'conflict') throw new EhrError(ErrorCode.CONFLICT, 'This key id already holds a different key; unwrap it instead.', { keyId: body.keyId });
      return { patientId: body.patientId, keyId: body.keyId, createdAt: new Date(outcome).toISOString() };
    });

    defineRoute(app, ctx, ROUTES.unwrapKey, async ({ body, principal, correlationId }) => {
      const now = ctx.now();
      if (!(await canSeePatient(ctx.db, principal.userId, body.patientId, now))) return denied(principal, body.patientId, correlationId, 'keys/unwrap');
      const rows = await ctx.db.query<{ key_id: string; wrapped: string; created_at: Date }>(
        `SELECT key_id, wrapped, created_at FROM data_keys WHERE patient_id = $1 ${body.keyId ? 'AND key_id = $2' : ''} ORDER BY created_at`,
        body.keyId ? [body.patientId, body.keyId] : [body.patientId],
      );
      // Counted before this unwrap's own audit row exists: "first fetch of a care-team patient" is judged on earlier rows.
      const counts = rows.length > 0 && (await unwrapCountsAsAccess(ctx.db, principal.userId, principal.deviceId, body.patientId));
      await writeAudit(ctx.db, {
        type: 'key-access', action: 'R', outcome: rows.length ? 'success' : 'failure', severity: 'info',
        userId: principal.userId, deviceId: principal.deviceId, patientId: body.patientId, correlationId, detail: { keys: rows.length },
      });
      if (rows.length === 0) throw new EhrError(ErrorCode.NOT_FOUND, 'No data key for this patient.', { patientId: body.patientId });
      if (counts) {
        await recordServerAccess(ctx.db, { userId: principal.userId, patientId: body.patientId, deviceId: principal.deviceId, kind: 'key-unwrap' }, now);
        await checkAccessRate(ctx.db, principal.userId, now, ctx.config.rateMonitor);
      }
      const keys = await Promise.all(
        rows.map(async (r) => ({
          keyId: r.key_id,
          dataKey: (await ctx.keys.unwrap(r.wrapped, dataKeyAad(body.patientId, r.key_id))).toString('base64url'),
          createdAt: new Date(r.created_at).toISOString(),
        })),
      );
      return { patientId: body.patientId, keys };
    });
  };
}
