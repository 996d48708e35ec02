/** users.*: an administrator manages the accounts cached on this workstation (no PHI here). */
import { hasCapability } from '../../../../src-shared/access';
import type { HandlerTable } from '../handler';
import { invalid } from '../errors';

const admin = (roles: Parameters<typeof hasCapability>[0]) => hasCapability(roles, 'users:manage');

export const userHandlers: Pick<HandlerTable, 'users.list' | 'users.unlock' | 'users.forget'> = {
  'users.list': {
    allow: admin,
    patient: false,
    run(ctx) {
      return ctx.accounts.list().map((a) => ({
        userId: a.userId,
        username: a.username,
        roles: a.roles,
        lastOnlineLoginAt: a.lastOnlineLoginAt,
        failedCount: a.failedCount,
        lockedUntil: a.lockedUntil,
      }));
    },
  },
  'users.unlock': {
    allow: admin,
    patient: false,
    run(ctx, { input }) {
      return { unlocked: ctx.auth.clearLockout(input.userId) };
    },
  },
  'users.forget': {
    allow: admin,
    patient: false,
    run(ctx, { input, session }) {
      if (input.userId === session.user.userId) throw invalid('You cannot remove your own account while signed in.', { field: 'userId' });
      if (ctx.sessions.sessionOf(input.userId)) throw invalid('This user still has a session on this workstation.', { field: 'userId' });
      return { forgotten: ctx.accounts.remove(input.userId) };
    },
  },
};
