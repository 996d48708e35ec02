/** Key service routes: wrap a client-created patient data key; unwrap for callers allowed to see the patient. Every access audited. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { canSeeOrRegister, canSeePatient } from '../services/access';
import { writeAudit, writeAuditMany, type ServerAuditEntry } from '../services/server-audit';
import { recordServerAccess, unwrapCountsAsAccess, unwrapsCountingAsAccess } from '../services/access-events';
import { mayWriteRecords } from '../services/push';
import { checkAccessRate } from '../services/rate-monitor';
import { dataKeyAad } from '../keys/sealed';
import type { Principal } from '../services/tokens';
import * as dataKeys from '../store/data-keys';
import { visibleAmong } from '../store/visibility';

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
        const created = await dataKeys.insertFirst(sql, { patientId: body.patientId, keyId: body.keyId, wrapped, createdBy: principal.userId });
        if (created) return created;
        const [existing] = await dataKeys.ofPatient(sql, body.patientId, body.keyId);
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
      const rows = await dataKeys.ofPatient(ctx.db, body.patientId, body.keyId);
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
    defineRoute(app, ctx, ROUTES.unwrapKeysBatch, async ({ body, principal, correlationId }) => {
      const now = ctx.now();
      const patientIds = [...new Set(body.keys.map((k) => k.patientId))];
      const visible = await visibleAmong(ctx.db, principal.userId, now, patientIds);
      const rows = await dataKeys.byPairs(ctx.db, body.keys.filter((k) => visible.has(k.patientId)));
      const found = new Map(rows.map((r) => [`${r.patient_id}\u0000${r.key_id}`, r]));
      const refused: { patientId: string; keyId: string; code: 'FORBIDDEN' | 'NOT_FOUND' }[] = [];
      const keys: { patientId: string; keyId: string; dataKey: string; createdAt: string }[] = [];
      const seen = new Set<string>();
      for (const k of body.keys) {
        const id = `${k.patientId}\u0000${k.keyId}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const row = found.get(id);
        if (!visible.has(k.patientId)) refused.push({ ...k, code: 'FORBIDDEN' });
        else if (!row) refused.push({ ...k, code: 'NOT_FOUND' });
        else keys.push({ patientId: k.patientId, keyId: k.keyId, dataKey: (await ctx.keys.unwrap(row.wrapped, dataKeyAad(k.patientId, k.keyId))).toString('base64url'), createdAt: new Date(row.created_at).toISOString() });
      }
      // The same entries the one-patient route writes: a denial per patient outside the caller's
      // teams (high severity), a key access per patient with how many keys it got.
      const perPatient = new Map<string, number>();
      for (const k of keys) perPatient.set(k.patientId, (perPatient.get(k.patientId) ?? 0) + 1);
      // As on the one-patient route: judged on earlier rows, before this batch's own audit exists.
      const counting = await unwrapsCountingAsAccess(ctx.db, principal.userId, principal.deviceId, [...perPatient.keys()]);
      const audit = patientIds.map((patientId): ServerAuditEntry => (visible.has(patientId)
        ? { type: 'key-access', action: 'R', outcome: perPatient.has(patientId) ? 'success' : 'failure', severity: 'info', userId: principal.userId, deviceId: principal.deviceId, patientId, correlationId, detail: { keys: perPatient.get(patientId) ?? 0, batch: true } }
        : { type: 'access-denied', action: 'R', outcome: 'denied', severity: 'high', userId: principal.userId, deviceId: principal.deviceId, patientId, correlationId, detail: { route: 'keys/unwrap-batch' } }));
      await writeAuditMany(ctx.db, audit);
      for (const patientId of counting) {
        await recordServerAccess(ctx.db, { userId: principal.userId, patientId, deviceId: principal.deviceId, kind: 'key-unwrap' }, now);
      }
      if (counting.size > 0) await checkAccessRate(ctx.db, principal.userId, now, ctx.config.rateMonitor);
      return { keys, refused };
    });
  };
}
