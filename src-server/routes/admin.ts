/** Admin API: users, roles, care teams, restricted flags (devices are in devices.ts). Every change audited. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { ROUTES, type AdminUser, type Role } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import type { Sql } from '../db/db';
import { defineRoute } from '../http/route';
import { hashPassword } from '../services/passwords';
import { writeAudit } from '../services/server-audit';

interface AdminUserRow {
  id: string;
  username: string;
  display_name: string;
  roles: Role[];
  status: string;
  status_reason: string | null;
  locked_until: Date | null;
}
const USER_COLUMNS = 'id, username, display_name, roles, status, status_reason, locked_until';

export function toAdminUser(u: AdminUserRow, now: Date): AdminUser {
  const locked = u.status === 'active' && u.locked_until && new Date(u.locked_until) > now;
  return {
    id: u.id, username: u.username, displayName: u.display_name, roles: u.roles,
    status: (locked ? 'locked' : u.status) as AdminUser['status'], statusReason: u.status_reason,
  };
}

async function userById(sql: Sql, id: string, now: Date): Promise<AdminUser> {
  const [u] = await sql.query<AdminUserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  if (!u) throw new EhrError(ErrorCode.NOT_FOUND, 'No such user.', { userId: id });
  return toAdminUser(u, now);
}

export function adminRoutes(ctx: ServerContext) {
  const admin = { roles: ['admin'] as const };
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.listUsers, async () => ({
      users: (await ctx.db.query<AdminUserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`)).map((u) => toAdminUser(u, ctx.now())),
    }), admin);

    defineRoute(app, ctx, ROUTES.createUser, async ({ body, principal }) => {
      const id = randomUUID();
      const inserted = await ctx.db.query(
        'INSERT INTO users (id, username, display_name, password_hash, roles) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING RETURNING id',
        [id, body.username, body.displayName, await hashPassword(body.password), body.roles],
      );
      if (!inserted.length) throw new EhrError(ErrorCode.CONFLICT, 'That username is taken.');
      await writeAudit(ctx.db, { type: 'user-created', action: 'C', outcome: 'success', severity: 'medium', userId: principal.userId, detail: { targetUserId: id } });
      return userById(ctx.db, id, ctx.now());
    }, admin);

    defineRoute(app, ctx, ROUTES.setRoles, async ({ body, params, principal }) => {
      await ctx.db.query('UPDATE users SET roles = $2 WHERE id = $1', [params.userId, body.roles]);
      await writeAudit(ctx.db, { type: 'roles-changed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, detail: { targetUserId: params.userId!, roles: body.roles.join(',') } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, admin);

    defineRoute(app, ctx, ROUTES.reinstateUser, async ({ params, principal }) => {
      await ctx.db.query("UPDATE users SET status = 'active', status_reason = NULL, failed_logins = 0, locked_until = NULL WHERE id = $1", [params.userId]);
      await writeAudit(ctx.db, { type: 'user-reinstated', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, detail: { targetUserId: params.userId! } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, { roles: ['admin', 'privacy_officer'] });

    // The privacy officer suspends an account pending review (an access-rate alert, a break-glass
    // found inappropriate); reinstate lifts it. The reason is stored, the change audited.
    defineRoute(app, ctx, ROUTES.suspendUser, async ({ body, params, principal }) => {
      const updated = await ctx.db.query("UPDATE users SET status = 'suspended', status_reason = $2 WHERE id = $1 AND status <> 'disabled' RETURNING id", [
        // A fixed reason naming the officer: the note is free text (it may quote clinical context) and
        // belongs with the review's disposition, sealed — never in a column shown on every user list.
        params.userId, `suspended pending privacy review by ${principal.userId}`,
      ]);
      void body;
      if (!updated.length) throw new EhrError(ErrorCode.NOT_FOUND, 'No such user.', { userId: params.userId! });
      await writeAudit(ctx.db, { type: 'account-suspended', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, detail: { targetUserId: params.userId! } });
      return userById(ctx.db, params.userId!, ctx.now());
    }, { roles: ['admin', 'privacy_officer'] });

    defineRoute(app, ctx, ROUTES.listCareTeams, async () => {
      const teams = await ctx.db.query<{ id: string; name: string }>('SELECT id, name FROM care_teams ORDER BY id');
      const members = await ctx.db.query<{ team_id: string; user_id: string }>('SELECT team_id, user_id FROM care_team_members');
      const patients = await ctx.db.query<{ team_id: string; patient_id: string }>('SELECT team_id, patient_id FROM care_team_patients');
      return {
        teams: teams.map((t) => ({
          id: t.id, name: t.name,
          userIds: members.filter((m) => m.team_id === t.id).map((m) => m.user_id),
          patientIds: patients.filter((p) => p.team_id === t.id).map((p) => p.patient_id),
        })),
      };
    }, admin);

    defineRoute(app, ctx, ROUTES.putCareTeam, async ({ body, params, principal, correlationId }) => {
      const teamId = params.teamId!;
      await ctx.db.tx(async (sql) => {
        await sql.query('INSERT INTO care_teams (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name', [teamId, body.name]);
        await sql.query('INSERT INTO patients (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [body.patientIds]);
        await sql.query('DELETE FROM care_team_members WHERE team_id = $1', [teamId]);
        await sql.query('DELETE FROM care_team_patients WHERE team_id = $1', [teamId]);
        await sql.query('INSERT INTO care_team_members (team_id, user_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [teamId, body.userIds]);
        await sql.query('INSERT INTO care_team_patients (team_id, patient_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [teamId, body.patientIds]);
        await writeAudit(sql, {
          type: 'care-team-changed', action: 'U', outcome: 'success', severity: 'medium', userId: principal.userId, correlationId,
          detail: { teamId, members: body.userIds.length, patients: body.patientIds.length },
        });
      });
      return { ok: true as const };
    }, admin);

    defineRoute(app, ctx, ROUTES.setRestricted, async ({ body, params, principal, correlationId }) => {
      await ctx.db.query('INSERT INTO patients (id, restricted) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET restricted = EXCLUDED.restricted', [params.patientId, body.restricted]);
      await writeAudit(ctx.db, {
        type: 'patient-restricted', action: 'U', outcome: 'success', severity: 'high', userId: principal.userId, patientId: params.patientId!,
        correlationId, detail: { restricted: body.restricted },
      });
      return { ok: true as const };
    }, { roles: ['admin', 'privacy_officer'] });
  };
}
