/** Device enrollment (one-time codes issued by an admin) and revocation. */
import { endVisitsOf } from '../services/visits';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type Device } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { parseDevicePublicKey, spkiB64u } from '../services/device-keys';
import { issueEnrollmentCode, redeemEnrollmentCode } from '../services/enrollment';
import { writeAudit } from '../services/server-audit';
import * as devices from '../store/devices';
import type { DeviceRow } from '../store/devices';
import { revokeDeviceFamilies } from '../store/sessions';

const toDevice = (d: DeviceRow): Device => ({
  deviceId: d.id,
  name: d.name,
  enrolledAt: new Date(d.enrolled_at).toISOString(),
  revokedAt: d.revoked_at ? new Date(d.revoked_at).toISOString() : null,
});

export function deviceRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.enroll, async ({ body }) => {
      const publicKey = spkiB64u(parseDevicePublicKey(body.publicKey));
      const now = ctx.now();
      const outcome = await ctx.db.tx(async (sql) => {
        if (!(await redeemEnrollmentCode(sql, body.code, body.deviceId, now))) return 'bad-code' as const;
        const enrolled = await devices.insertNew(sql, { id: body.deviceId, name: body.name ?? null, publicKey, enrolledAt: now });
        if (!enrolled) return 'exists' as const;
        await writeAudit(sql, { type: 'device-enrolled', action: 'C', outcome: 'success', severity: 'medium', deviceId: body.deviceId });
        return enrolled;
      });
      if (outcome === 'bad-code') {
        await writeAudit(ctx.db, { type: 'device-enroll-failed', action: 'C', outcome: 'denied', severity: 'medium', deviceId: body.deviceId });
        throw new EhrError(ErrorCode.FORBIDDEN, 'The enrollment code is wrong, used or expired; ask IT for a new one.');
      }
      if (outcome === 'exists') throw new EhrError(ErrorCode.CONFLICT, 'A device with this id is already enrolled.', { deviceId: body.deviceId });
      return toDevice(outcome);
    });

    defineRoute(
      app, ctx, ROUTES.issueEnrollmentCode,
      async ({ body, principal }) => {
        const issued = await issueEnrollmentCode(ctx.db, principal.userId, body.ttlMinutes ?? ctx.config.enrollmentCodeMinutes, ctx.now());
        await writeAudit(ctx.db, { type: 'enrollment-code-issued', action: 'C', outcome: 'success', severity: 'info', userId: principal.userId });
        return issued;
      },
      { roles: ['admin'] },
    );

    defineRoute(
      app, ctx, ROUTES.listDevices,
      async () => ({ devices: (await devices.list(ctx.db)).map(toDevice) }),
      { roles: ['admin'] },
    );

    defineRoute(
      app, ctx, ROUTES.revokeDevice,
      async ({ params, principal }) => {
        const deviceId = params.deviceId!;
        const revoked = await ctx.db.tx(async (sql) => {
          const row = await devices.revoke(sql, deviceId, ctx.now());
          // Its refresh families die with it; access tokens are refused by the per-request device check.
          await revokeDeviceFamilies(sql, deviceId);
          await writeAudit(sql, { type: 'device-revoked', action: 'U', outcome: row ? 'success' : 'failure', severity: 'high', userId: principal.userId, deviceId });
          return row;
        });
        if (!revoked) throw new EhrError(ErrorCode.NOT_FOUND, 'No such device.', { deviceId });
        await endVisitsOf(ctx, { userId: null, deviceId }, 'device-revoked');
        return toDevice(revoked);
      },
      { roles: ['admin'] },
    );
  };
}
