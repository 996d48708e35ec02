/**
 * Login: online against the server when it answers, offline against the cached Argon2id verifier
 * when it does not (within the policy's window), with a lockout after repeated failures that holds
 * offline too. Also re-checks a logged-in user's password (unlock, break-glass), counting failures
 * the same way, so the lock screen cannot be used to guess passwords.
 *
 * Messages never say whether a username exists.
 */
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { CareTeamSnapshot } from '../../../src-shared/access';
import type { UserInfo } from '../../../src-shared/api';
import type { Policy } from '../../../src-shared/policy';
import type { AccountStore, CachedAccount } from './accounts';
import type { AuthServer, ServerMe, ServerTokens } from './auth-server';
import { hashPassword, OWASP_ARGON2ID, verifyPassword, type Argon2Cost } from './password-hash';

/** How long an account stays locked on this workstation after too many failures (or until an admin clears it). */
export const LOCKOUT_MS = 15 * 60_000;
const DAY_MS = 24 * 60 * 60_000;

export interface LoginSuccess {
  user: UserInfo;
  offline: boolean;
  careTeam: CareTeamSnapshot;
  tokens: ServerTokens | null;
  /** Break-glass grants the server still has running for this user (online login only). */
  serverGrants: ServerMe['grants'];
}

/** A refused login, with the user id when one is known (for the audit entry; never sent to the renderer). */
export class LoginRefused extends Error {
  constructor(
    readonly error: EhrError,
    readonly userId: string | null,
  ) {
    super(error.message);
  }
}

const wrongCredentials = (): EhrError => new EhrError(ErrorCode.UNAUTHENTICATED, 'Wrong username or password.');
/**
 * The server answers a locked account exactly like a wrong password (no oracle for names or locks),
 * so a refusal from it may be either: the message says so, or a locked-out nurse would retype a
 * right password forever.
 */
const refusedByServer = (): EhrError =>
  new EhrError(ErrorCode.UNAUTHENTICATED, 'Wrong username or password, or too many attempts: try again later or ask an administrator.');
const accountLocked = (): EhrError =>
  new EhrError(ErrorCode.ACCOUNT_LOCKED, 'This account is locked on this workstation after too many failed attempts. Try again later or ask an administrator.');

export interface AuthenticatorOptions {
  accounts: AccountStore;
  server: AuthServer | null;
  policy: Pick<Policy, 'offlineLoginDays' | 'maxFailedLogins'>;
  now: () => number;
  /** Argon2id cost for new verifiers (tests lower it; production uses OWASP's). */
  argon2?: Argon2Cost;
}

export class Authenticator {
  constructor(private readonly opts: AuthenticatorOptions) {}

  async login(username: string, password: string): Promise<LoginSuccess> {
    const cached = this.opts.accounts.byUsername(username);
    if (cached && this.isLocked(cached)) throw new LoginRefused(accountLocked(), cached.userId);
    if (this.opts.server) {
      try {
        return await this.loginOnline(username, password);
      } catch (e) {
        if (!(e instanceof EhrError) || e.code !== ErrorCode.OFFLINE) {
          if (e instanceof EhrError && e.code === ErrorCode.UNAUTHENTICATED) {
            if (cached) this.countFailure(cached);
            throw new LoginRefused(refusedByServer(), cached?.userId ?? null);
          }
          throw new LoginRefused(e instanceof EhrError ? e : new EhrError(ErrorCode.INTERNAL, 'Login failed.'), cached?.userId ?? null);
        }
        // The server cannot be reached: fall through to the offline verifier.
      }
    }
    return this.loginOffline(cached, password);
  }

  private async loginOnline(username: string, password: string): Promise<LoginSuccess> {
    const server = this.opts.server as AuthServer;
    const { user, tokens } = await server.login(username, password);
    const me = await server.me(tokens);
    const careTeam: CareTeamSnapshot = { careTeam: me.careTeamPatientIds, restricted: me.restrictedPatientIds, grants: [] };
    const hash = await hashPassword(password, this.opts.argon2 ?? OWASP_ARGON2ID);
    const info: UserInfo = { userId: user.id, username: user.username, displayName: user.displayName, roles: me.user.roles };
    // A user renamed or re-created on the server replaces any stale account with the same username.
    const stale = this.opts.accounts.byUsername(user.username);
    if (stale && stale.userId !== user.id) this.opts.accounts.remove(stale.userId);
    this.opts.accounts.save({ ...info, hash, lastOnlineLoginAt: this.opts.now() });
    this.opts.accounts.saveCareTeam(user.id, careTeam);
    return { user: info, offline: false, careTeam, tokens, serverGrants: me.grants };
  }

  private async loginOffline(cached: CachedAccount | null, password: string): Promise<LoginSuccess> {
    const { offlineLoginDays } = this.opts.policy;
    const offlineRefused = (userId: string | null) =>
      new LoginRefused(
        new EhrError(ErrorCode.OFFLINE, 'The server cannot be reached and offline sign-in is not possible for this account here. Connect to the network and try again.'),
        userId,
      );
    if (!cached || offlineLoginDays === 0) throw offlineRefused(cached?.userId ?? null);
    if (this.opts.now() - cached.lastOnlineLoginAt > offlineLoginDays * DAY_MS) throw offlineRefused(cached.userId);
    if (!(await verifyPassword(cached.hash, password))) {
      this.countFailure(cached);
      throw new LoginRefused(wrongCredentials(), cached.userId);
    }
    this.opts.accounts.resetFailures(cached.userId);
    const careTeam = this.opts.accounts.careTeam(cached.userId) ?? { careTeam: [], restricted: [], grants: [] };
    const user: UserInfo = { userId: cached.userId, username: cached.username, displayName: cached.displayName, roles: cached.roles };
    return { user, offline: true, careTeam, tokens: null, serverGrants: [] };
  }

  /** Re-checks the password of a logged-in user (unlock, break-glass). Throws UNAUTHENTICATED / ACCOUNT_LOCKED. */
  async verify(userId: string, password: string): Promise<void> {
    const cached = this.opts.accounts.byId(userId);
    if (!cached) throw wrongCredentials();
    if (this.isLocked(cached)) throw accountLocked();
    if (!(await verifyPassword(cached.hash, password))) {
      this.countFailure(cached);
      throw this.opts.accounts.byId(userId)?.lockedUntil ? accountLocked() : wrongCredentials();
    }
    if (cached.failedCount > 0) this.opts.accounts.resetFailures(userId);
  }

  /** Admin: clears a local lockout. */
  clearLockout(userId: string): boolean {
    if (!this.opts.accounts.byId(userId)) return false;
    this.opts.accounts.resetFailures(userId);
    return true;
  }

  private isLocked(a: CachedAccount): boolean {
    return a.lockedUntil !== null && a.lockedUntil > this.opts.now();
  }

  private countFailure(a: CachedAccount): void {
    const current = this.opts.accounts.byId(a.userId) ?? a;
    const failed = current.failedCount + 1;
    const lockedUntil = failed >= this.opts.policy.maxFailedLogins ? this.opts.now() + LOCKOUT_MS : null;
    this.opts.accounts.recordFailure(a.userId, lockedUntil);
  }
}
