/**
 * What the session core needs from the sync server, as a small interface: online login, who-am-I
 * (roles + care team), break-glass, logout. The real one wraps the sync area's pinned-HTTPS
 * ServerClient; tests use a fake. Errors are EhrErrors: OFFLINE when the server cannot be reached
 * (the caller then falls back to the offline verifier), UNAUTHENTICATED on a wrong password.
 */
import type { BreakGlassReason } from '../../../src-shared/policy';
import type { Role } from '../../../src-shared/access';
import type { ServerClient } from '../sync/server-client';

export interface ServerUser {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
}

export interface ServerTokens {
  accessToken: string;
  refreshToken: string;
}

export interface ServerMe {
  user: ServerUser;
  careTeamPatientIds: string[];
  restrictedPatientIds: string[];
  /** Break-glass grants the server still knows as running for this user. */
  grants: Array<{ id: string; patientId: string; reason: string; startsAt: string; expiresAt: string }>;
}

export interface ServerBreakGlassGrant {
  id: string;
  patientId: string;
  startsAt: string;
  expiresAt: string;
}

export interface AuthServer {
  login(username: string, password: string): Promise<{ user: ServerUser; tokens: ServerTokens }>;
  /** Who am I, for the user whose tokens are given. */
  me(tokens: ServerTokens): Promise<ServerMe>;
  breakGlass(
    tokens: ServerTokens,
    req: { patientId: string; reason: BreakGlassReason; justification: string; password: string; minutes: number },
    correlationId: string,
  ): Promise<ServerBreakGlassGrant>;
  logout(tokens: ServerTokens): Promise<void>;
}

/** The server client adapter, plus a way to say whose tokens the sync engine should use now. */
export interface ClientAuthServer extends AuthServer {
  /** Installs this session's tokens in the shared client (the sync engine then pushes as that user). */
  install(tokens: ServerTokens | null): void;
}

/**
 * Adapts the sync area's ServerClient (which holds one token set at a time) to several users on one
 * workstation. Each session owns a tokens object; the one installed in the client is `current`, and
 * a refresh anywhere (our calls or the sync engine's) rotates that same object in place, so a
 * single-use refresh token is never replayed from a stale copy.
 */
export function authServerFromClient(client: ServerClient): ClientAuthServer {
  let current: ServerTokens | null = null;
  client.onTokens((t) => {
    if (t && current) {
      current.accessToken = t.accessToken;
      current.refreshToken = t.refreshToken;
    }
  });
  // Whose each tokens object is (from its login), so installing it also tells the client who is
  // syncing now: the engine pulls from that user's own cursor and attributes conflicts to them.
  const owners = new WeakMap<ServerTokens, ServerUser>();
  const install = (tokens: ServerTokens | null): void => {
    if (tokens === current) return;
    current = tokens;
    const user = tokens ? owners.get(tokens) : undefined;
    client.setTokens(tokens && user ? { ...tokens, user } : tokens);
  };
  async function as<T>(tokens: ServerTokens, call: () => Promise<T>): Promise<T> {
    install(tokens);
    return call();
  }
  return {
    install,
    async login(username, password) {
      // Detach first: the login's token event must not overwrite another session's tokens.
      current = null;
      const t = await client.login({ username, password });
      const tokens: ServerTokens = { accessToken: t.accessToken, refreshToken: t.refreshToken };
      owners.set(tokens, t.user);
      current = tokens;
      return { user: t.user, tokens };
    },
    async me(tokens) {
      const me = await as(tokens, () => client.me());
      return {
        user: me.user,
        careTeamPatientIds: me.careTeamPatientIds,
        restrictedPatientIds: me.restrictedPatientIds,
        grants: me.breakGlassGrants,
      };
    },
    async breakGlass(tokens, req, correlationId) {
      const res = await as(tokens, () => client.breakGlass(req, { correlationId }));
      return res.grant;
    },
    async logout(tokens) {
      await as(tokens, () => client.logout());
      current = null;
    },
  };
}
