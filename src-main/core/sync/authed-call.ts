/**
 * One authenticated call to a route of the wire protocol (src-shared/sync/routes.ts), for the
 * session-scoped ports that talk to the server as the user in front (privacy review, video visits
 * and recordings). It fills the route's `:name` path parameters, sends through the shared pinned
 * ServerClient with the installed session's bearer token and the caller's correlation id, and
 * checks the answer against the route's own response schema before anyone uses it.
 *
 * An expired access token (401) is refreshed ONCE and the call retried: the refresh token is
 * single-use and rotates in place in the session's tokens object (auth-server.ts), so the next call
 * and the signalling upgrade use the new one. A second 401 after a refresh is not retried again; it
 * surfaces as the server's own UNAUTHENTICATED error ("sign in again"), never a loop. Every error
 * is an EhrError carrying ids and the path only, never a response body.
 */
import type { z } from 'zod';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { CORRELATION_HEADER } from '../../../src-shared/sync/common';
import { ROUTES } from '../../../src-shared/sync/routes';
import type { ServerClient } from './server-client';

export type RouteName = keyof typeof ROUTES;
export type RouteAnswer<R extends RouteName> = z.infer<(typeof ROUTES)[R]['response']>;

export interface AuthedRequest {
  correlationId: string;
  /** Values for the route's `:name` path parameters (each URI-encoded). */
  params?: Record<string, string | number>;
  /** Already encoded query string, without the `?`. */
  query?: string;
  body?: unknown;
}

export type AuthedCall = <R extends RouteName>(route: R, req: AuthedRequest) => Promise<RouteAnswer<R>>;

/** Fills `:name` path parameters, each URI-encoded (ids are validated already; this is belt and braces). */
export function routePath(route: RouteName, params: Record<string, string | number> = {}): string {
  return ROUTES[route].path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new EhrError(ErrorCode.INTERNAL, 'A server route parameter is missing.', { route });
    return encodeURIComponent(String(v));
  });
}

const isUnauthenticated = (e: unknown): boolean => e instanceof EhrError && e.code === ErrorCode.UNAUTHENTICATED;

/**
 * The caller for one ServerClient. The tokens sent are those installed in the client at call time:
 * callers install the session's tokens first (ClientAuthServer.install / TelemedicineDeps.useSession).
 */
export function authedCaller(client: Pick<ServerClient, 'call' | 'refresh'>): AuthedCall {
  return async function call<R extends RouteName>(route: R, req: AuthedRequest): Promise<RouteAnswer<R>> {
    const r = ROUTES[route];
    const path = routePath(route, req.params) + (req.query ? `?${req.query}` : '');
    const once = () => client.call({
      method: r.method,
      path,
      auth: true,
      headers: { [CORRELATION_HEADER]: req.correlationId },
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    let raw: unknown;
    try {
      raw = await once();
    } catch (e) {
      if (!isUnauthenticated(e)) throw e;
      // Expired (or otherwise refused) access token: one refresh, one retry. A refresh the server
      // refuses throws its own UNAUTHENTICATED and the client forgets the tokens; a retry that is
      // refused again throws as is.
      await client.refresh();
      raw = await once();
    }
    const parsed = r.response.safeParse(raw);
    if (!parsed.success) {
      throw new EhrError(ErrorCode.INTEGRITY, 'The sync server sent an answer that does not match the protocol.', { route, path: path.split('?')[0] ?? '' });
    }
    return parsed.data as RouteAnswer<R>;
  };
}
