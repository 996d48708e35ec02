/**
 * The privacy officer's review queue lives on the sync server (it is clinic-wide); this is the
 * session core's small door to it, as the officer signed in at this workstation. Calls go through
 * the pinned sync-server client with that officer's tokens, carry the API call's correlation id
 * (the server's audit row and ours tie together), and every answer is checked against the wire
 * schema before it reaches a handler. Tests use a fake with the same interface.
 */
import type { z } from 'zod';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { AdminUserSchema, AuditBundleSchema, CORRELATION_HEADER, ROUTES, ReviewEpisodeResponseSchema, ReviewItemSchema, ReviewQueueResponseSchema } from '../../../src-shared/sync';
import type { DispositionRequest, ReviewEpisode, ReviewItem, ReviewSubject } from '../../../src-shared/sync';
import type { AuditEventBundle } from '../../../src-shared/api';
import type { ClientAuthServer, ServerTokens } from '../auth';
import type { ServerClient } from '../sync/server-client';

export interface PrivacyPort {
  queue(tokens: ServerTokens, open: boolean, correlationId: string): Promise<ReviewItem[]>;
  episode(tokens: ServerTokens, subject: ReviewSubject, id: string, correlationId: string): Promise<ReviewEpisode>;
  dispose(tokens: ServerTokens, req: DispositionRequest, correlationId: string): Promise<ReviewItem>;
  exportEpisode(tokens: ServerTokens, subject: ReviewSubject, id: string, correlationId: string): Promise<AuditEventBundle>;
  setAccount(tokens: ServerTokens, userId: string, action: 'suspend' | 'reinstate', note: string, correlationId: string): Promise<{ userId: string; status: string }>;
}

const path = (template: string, params: Record<string, string>): string =>
  template.replace(/:([A-Za-z]+)/g, (_, k: string) => encodeURIComponent(params[k] ?? ''));

export function privacyPortFromClient(client: ServerClient, auth: ClientAuthServer): PrivacyPort {
  /** One call as the officer; an expired access token is refreshed once (the refresh token rotates in place). */
  async function send<S extends z.ZodType>(tokens: ServerTokens, schema: S, req: { method: 'GET' | 'POST'; path: string; body?: unknown }, correlationId: string): Promise<z.infer<S>> {
    auth.install(tokens);
    const once = () => client.call({ ...req, auth: true, headers: { [CORRELATION_HEADER]: correlationId } });
    let body: unknown;
    try {
      body = await once();
    } catch (e) {
      if (!(e instanceof EhrError) || e.code !== ErrorCode.UNAUTHENTICATED) throw e;
      await client.refresh();
      body = await once();
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new EhrError(ErrorCode.INTEGRITY, 'The sync server sent an answer that does not match the protocol.', { path: req.path.split('?')[0] ?? '' });
    return parsed.data;
  }
  return {
    async queue(tokens, open, cid) {
      return (await send(tokens, ReviewQueueResponseSchema, { method: 'GET', path: `${ROUTES.reviewQueue.path}${open ? '?open=true' : ''}` }, cid)).items;
    },
    episode: (tokens, subject, id, cid) => send(tokens, ReviewEpisodeResponseSchema, { method: 'GET', path: path(ROUTES.reviewEpisode.path, { subject, id }) }, cid),
    dispose: (tokens, req, cid) => send(tokens, ReviewItemSchema, { method: 'POST', path: ROUTES.addDisposition.path, body: req }, cid),
    exportEpisode: (tokens, subject, id, cid) => send(tokens, AuditBundleSchema, { method: 'GET', path: path(ROUTES.reviewEpisodeFhir.path, { subject, id }) }, cid),
    async setAccount(tokens, userId, action, note, cid) {
      const route = action === 'suspend' ? ROUTES.suspendUser : ROUTES.reinstateUser;
      const u = await send(tokens, AdminUserSchema, { method: 'POST', path: path(route.path, { userId }), body: { note } }, cid);
      return { userId: u.id, status: u.status };
    },
  };
}
