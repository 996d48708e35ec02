/** Admin API: users, roles, care teams, restricted flags (devices are in devices.ts). Every change audited. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type AdminUser } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { defineRoute } from '../http/route';
import { hashPassword } from '../services/passwords';
import { writeAudit } from '../services/server-audit';
import * as careTeams from '../store/care-teams';
import * as patients from '../store/patients';
import * as users from '../store/users';
import type { AdminUserRow } from '../store/users';

export function toAdminUser(u: AdminUserRow, now: Date): AdminUser {
  const locked = u.status === 'active' && u.locked_until && new Date(u.locked_until) > now;
  return {
    id: u.id, username: u.username, displayName: u.display_name, roles: u.roles,
    status: (locked ? 'locked' : u.status) as AdminUser['status'], statusReason: u.status_reason,
  };
}

async function userById(sql: Sql, id: string, now: Date): Promise<AdminUser> {
  const u = await users.adminById(sql, id);
  if (!u) throw new EhrError(ErrorCode.NOT_FOUND, 'No such user.', { userId: id });
  return toAdminUser(u, now);
}

export function adminRoutes(ctx: ServerContext) {
  const admin = { roles: ['admin'] as const };
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.listUsers, async () => ({
      users: (await users.adminList(ctx.db)).map((u) => toAdminUser(u, ctx.now())),
    }), admin);

    defineRoute(app, ctx, ROUTES.createUser, async ({ body, principal }) => {
      const id = randomUUID();
      const created = await users.create(ctx.db, { id, username: body.username, displayName: body.displayName, passwordHash: await hashPassword(body.password), roles: body.roles });
      if (!created) throw new EhrError(ErrorCode.CONFLICT, 'That username is taken.');
      await writeAudit(ctx.db, { type: 'user-created', action: 'C', outcome: 'success', severity: 'medium', userId: principal.userId, detail: { targetUserId: id } });
      return userById(ctx.db, id, ctx.now());
    }, admin);

    defineRoute(app, ctx, ROUTES.setRoles, async ({ body, params, principal }) => {
      await users.setRoles(ctx.db, params.userId!, body.roles);
      await writeAudit(ctx.db, { type: 'roles-changed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, detail: { targetUserId: params.userId!, roles: body.roles.join(',') } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, admin);

    defineRoute(app, ctx, ROUTES.reinstateUser, async ({ params, principal }) => {
      await users.reinstate(ctx.db, params.userId!);
      await writeAudit(ctx.db, { type: 'user-reinstated', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, detail: { targetUserId: params.userId! } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, { roles: ['admin', 'privacy_officer'] });

    // The privacy officer suspends an account pending review (an access-rate alert, a break-glass
    // found inappropriate); reinstate lifts it. The reason is stored, the change audited.
    defineRoute(app, ctx, ROUTES.suspendUser, async ({ body, params, principal }) => {
      // A fixed reason naming the officer: the note is free text (it may quote clinical context) and
      // belongs with the review's disposition, sealed — never in a column shown on every user list.
      const suspended = await users.suspendPendingReview(ctx.db, params.userId!, `suspended pending privacy review by ${principal.userId}`);
      void body;
      if (!suspended) throw new EhrError(ErrorCode.NOT_FOUND, 'No such user.', { userId: params.userId! });
      await writeAudit(ctx.db, { type: 'account-suspended', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, detail: { targetUserId: params.userId! } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, { roles: ['admin', 'privacy_officer'] });

    defineRoute(app, ctx, ROUTES.listCareTeams, async () => ({ teams: await careTeams.list(ctx.db) }), admin);

    defineRoute(app, ctx, ROUTES.putCareTeam, async ({ body, params, principal, correlationId }) => {
      const teamId = params.teamId!;
      await ctx.db.tx(async (sql) => {
        await patients.ensureAll(sql, body.patientIds);
        await careTeams.replace(sql, { id: teamId, name: body.name, userIds: body.userIds, patientIds: body.patientIds });
        await writeAudit(sql, {
          type: 'care-team-changed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, correlationId,
          detail: { teamId, members: body.userIds.length, patients: body.patientIds.length },
        });
      });
      return { ok: true as const };
    }, admin);

    defineRoute(app, ctx, ROUTES.setRestricted, async ({ body, params, principal, correlationId }) => {
      await patients.setRestricted(ctx.db, params.patientId!, body.restricted);
      await writeAudit(ctx.db, {
        type: 'patient-restricted', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, patientId: params.patientId!,
        correlationId, detail: { restricted: body.restricted },
      });
      return { ok: true as const };
    }, { roles: ['admin', 'privacy_officer'] });
  };
}
