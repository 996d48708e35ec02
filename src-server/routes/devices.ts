/** Device enrollment (one-time codes issued by an admin) and revocation. */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type Device } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { defineRoute } from '../http/route';
import { parseDevicePublicKey, spkiB64u } from '../services/device-keys';
import { writeAudit } from '../services/server-audit';

const hashCode = (code: string): string => createHash('sha256').update(code.replace(/-/g, '').toUpperCase()).digest('hex');

interface DeviceRow {
  id: string;
  name: string | null;
  enrolled_at: Date;
  revoked_at: Date | null;
}
const toDevice = (d: DeviceRow): Device => ({
  deviceId: d.id,
  name: d.name,
  enrolledAt: new Date(d.enrolled_at).toISOString(),
  revokedAt: d.revoked_at ? new Date(d.revoked_at).toISOString() : null,
});

/** A one-time code (stored hashed): 16 characters from an unambiguous alphabet, grouped for reading aloud. */
export async function issueEnrollmentCode(sql: Sql, createdBy: string, minutes: number, now: Date): Promise<{ code: string; expiresAt: string }> {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const chars = [...randomBytes(16)].map((b) => alphabet[b % alphabet.length]).join('');
  const code = chars.match(/.{4}/g)!.join('-');
  const expiresAt = new Date(now.getTime() + minutes * 60_000);
  await sql.query('INSERT INTO enrollment_codes (code_hash, created_by, expires_at) VALUES ($1, $2, $3)', [hashCode(code), createdBy, expiresAt]);
  return { code, expiresAt: expiresAt.toISOString() };
}

export function deviceRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.enroll, async ({ body }) => {
      const publicKey = spkiB64u(parseDevicePublicKey(body.publicKey));
      const now = ctx.now();
      const outcome = await ctx.db.tx(async (sql) => {
        const used = await sql.query(
          'UPDATE enrollment_codes SET used_at = $2, device_id = $3 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING code_hash',
          [hashCode(body.code), now, body.deviceId],
        );
        if (used.length === 0) return 'bad-code' as const;
        const inserted = await sql.query<DeviceRow>(
          'INSERT INTO devices (id, name, public_key, enrolled_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id, name, enrolled_at, revoked_at',
          [body.deviceId, body.name ?? null, publicKey, now],
        );
        if (!inserted[0]) return 'exists' as const;
        await writeAudit(sql, { type: 'device-enrolled', action: 'C', outcome: 'success', severity: 'medium', deviceId: body.deviceId });
        return inserted[0];
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
      async () => ({ devices: (await ctx.db.query<DeviceRow>('SELECT id, name, enrolled_at, revoked_at FROM devices ORDER BY enrolled_at')).map(toDevice) }),
      { roles: ['admin'] },
    );

    defineRoute(
      app, ctx, ROUTES.revokeDevice,
      async ({ params, principal }) => {
        const deviceId = params.deviceId!;
        const rows = await ctx.db.tx(async (sql) => {
          const r = await sql.query<DeviceRow>(
            'UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id, name, enrolled_at, revoked_at',
            [deviceId, ctx.now()],
          );
          // Its refresh families die with it; access tokens are refused by the per-request device check.
          await sql.query("UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'device-revoked' WHERE device_id = $1 AND revoked_at IS NULL", [deviceId]);
          await writeAudit(sql, { type: 'device-revoked', action: 'U', outcome: r[0] ? 'success' : 'failure', severity: 'high', userId: principal.userId, deviceId });
          return r;
        });
        if (!rows[0]) throw new EhrError(ErrorCode.NOT_FOUND, 'No such device.', { deviceId });
        return toDevice(rows[0]);
      },
      { roles: ['admin'] },
    );
  };
}
