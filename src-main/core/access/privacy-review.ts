/**
 * The privacy officer's review queue lives on the sync server (it is clinic-wide); this is the
 * session core's small door to it, as the officer signed in at this workstation. Calls go through
 * the shared authenticated call (sync/authed-call.ts) with that officer's tokens (an expired access
 * token is refreshed once), carry the API call's correlation id (the server's audit row and ours
 * tie together), and every answer is checked against the route's response schema before it
 * reaches a handler. Tests use a fake with the same interface.
 */
import type { DispositionRequest, RecordingAccess, ReviewEpisode, ReviewItem, ReviewSubject } from '../../../src-shared/sync';
import type { AuditEventBundle } from '../../../src-shared/api';
import type { ClientAuthServer, ServerTokens } from '../auth';
import { authedCaller, type AuthedRequest, type RouteAnswer, type RouteName } from '../sync/authed-call';
import type { ServerClient } from '../sync/server-client';

export interface PrivacyPort {
  queue(tokens: ServerTokens, open: boolean, correlationId: string): Promise<ReviewItem[]>;
  episode(tokens: ServerTokens, subject: ReviewSubject, id: string, correlationId: string): Promise<ReviewEpisode>;
  dispose(tokens: ServerTokens, req: DispositionRequest, correlationId: string): Promise<ReviewItem>;
  exportEpisode(tokens: ServerTokens, subject: ReviewSubject, id: string, correlationId: string): Promise<AuditEventBundle>;
  setAccount(tokens: ServerTokens, userId: string, action: 'suspend' | 'reinstate', note: string, correlationId: string): Promise<{ userId: string; status: string }>;
  /** The server's append-only recording access log (record / view / download / delete / purge), newest first. */
  recordingAccess(tokens: ServerTokens, query: RecordingAccessFilter, correlationId: string): Promise<RecordingAccess[]>;
}

export interface RecordingAccessFilter {
  patientId?: string | undefined;
  recordingId?: string | undefined;
  limit: number;
}

export function privacyPortFromClient(client: ServerClient, auth: ClientAuthServer): PrivacyPort {
  const call = authedCaller(client);
  /** One call as the officer (the shared authenticated call refreshes an expired access token once). */
  function send<R extends RouteName>(tokens: ServerTokens, route: R, req: AuthedRequest): Promise<RouteAnswer<R>> {
    auth.install(tokens);
    return call(route, req);
  }
  return {
    async queue(tokens, open, correlationId) {
      return (await send(tokens, 'reviewQueue', { correlationId, ...(open ? { query: 'open=true' } : {}) })).items;
    },
    episode: (tokens, subject, id, correlationId) => send(tokens, 'reviewEpisode', { correlationId, params: { subject, id } }),
    dispose: (tokens, req, correlationId) => send(tokens, 'addDisposition', { correlationId, body: req }),
    exportEpisode: (tokens, subject, id, correlationId) => send(tokens, 'reviewEpisodeFhir', { correlationId, params: { subject, id } }),
    async setAccount(tokens, userId, action, note, correlationId) {
      const u = await send(tokens, action === 'suspend' ? 'suspendUser' : 'reinstateUser', { correlationId, params: { userId }, body: { note } });
      return { userId: u.id, status: u.status };
    },
    async recordingAccess(tokens, filter, correlationId) {
      const query = new URLSearchParams({ limit: String(filter.limit) });
      if (filter.patientId) query.set('patientId', filter.patientId);
      if (filter.recordingId) query.set('recordingId', filter.recordingId);
      return (await send(tokens, 'recordingAccess', { correlationId, query: query.toString() })).events;
    },
  };
}
