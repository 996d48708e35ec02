/**
 * The sync server's visit and recording routes (src-shared/sync/routes.ts, startVisit…deleteRecording)
 * as typed calls. They go through the shared ServerClient (pinned TLS, bearer token of the session
 * in front), carry the caller's correlation id so the server's audit ties to ours, and every answer
 * is validated with the route's zod schema before anyone uses it.
 */
import type { z } from 'zod';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import { CORRELATION_HEADER } from '../../../src-shared/sync/common';
import { ROUTES } from '../../../src-shared/sync/routes';
import type { Envelope } from '../../../src-shared/node/envelope';
import type { IceServer, Recording, Visit, VisitLink } from '../../../src-shared/sync/visits';
import type { ServerClient } from '../sync/server-client';

/** What the telemedicine service needs from the server (a fake in unit tests). */
export interface VisitServer {
  startVisit(patientId: string, correlationId: string): Promise<Visit>;
  createLink(visitId: string, minutes: number, correlationId: string): Promise<VisitLink>;
  revokeLink(visitId: string, correlationId: string): Promise<void>;
  consent(visitId: string, recording: boolean, method: 'verbal' | 'patient-page', correlationId: string): Promise<Visit>;
  endVisit(visitId: string, correlationId: string): Promise<Visit>;
  iceServers(correlationId: string): Promise<IceServer[]>;
  startRecording(visitId: string, recordingId: string, meta: Envelope, correlationId: string): Promise<Recording>;
  putChunk(recordingId: string, seq: number, envelope: Envelope, correlationId: string): Promise<void>;
  finishRecording(recordingId: string, chunkCount: number, correlationId: string): Promise<Recording>;
  listRecordings(patientId: string, correlationId: string): Promise<Recording[]>;
  chunks(recordingId: string, from: number, limit: number, purpose: 'view' | 'download', correlationId: string): Promise<Array<{ seq: number; envelope: Envelope }>>;
  deleteRecording(recordingId: string, reason: string, correlationId: string): Promise<Recording>;
}

type RouteName = keyof typeof ROUTES;

/** Fills `:name` path parameters, each URI-encoded (ids are validated already; this is belt and braces). */
function pathOf(route: RouteName, params: Record<string, string | number> = {}): string {
  return ROUTES[route].path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new EhrError(ErrorCode.INTERNAL, 'A server route parameter is missing.', { route });
    return encodeURIComponent(String(v));
  });
}

export function visitServerFromClient(client: Pick<ServerClient, 'call'>): VisitServer {
  /** One call; its answer is checked against the route's own response schema. */
  async function send<R extends RouteName>(route: R, correlationId: string, params?: Record<string, string | number>, body?: unknown, query?: string): Promise<z.infer<(typeof ROUTES)[R]['response']>> {
    const r = ROUTES[route];
    const path = pathOf(route, params) + (query ? `?${query}` : '');
    const raw = await client.call({
      method: r.method as 'GET' | 'POST' | 'PUT',
      path,
      auth: true,
      headers: { [CORRELATION_HEADER]: correlationId },
      ...(body === undefined ? {} : { body }),
    });
    const parsed = r.response.safeParse(raw);
    if (!parsed.success) {
      throw new EhrError(ErrorCode.INTEGRITY, 'The sync server sent an answer that does not match the protocol.', { route });
    }
    return parsed.data as z.infer<(typeof ROUTES)[R]['response']>;
  }
  return {
    startVisit: (patientId, c) => send('startVisit', c, {}, { patientId }),
    createLink: (visitId, minutes, c) => send('createVisitLink', c, { visitId }, { minutes }),
    async revokeLink(visitId, c) {
      await send('revokeVisitLink', c, { visitId }, {});
    },
    consent: (visitId, recording, method, c) => send('visitConsent', c, { visitId }, { recording, method }),
    endVisit: (visitId, c) => send('endVisit', c, { visitId }, {}),
    iceServers: async (c) => (await send('iceServers', c)).iceServers,
    startRecording: (visitId, recordingId, meta, c) => send('startRecording', c, { visitId }, { recordingId, meta }),
    async putChunk(recordingId, seq, envelope, c) {
      await send('putRecordingChunk', c, { recordingId, seq }, { envelope });
    },
    finishRecording: (recordingId, chunkCount, c) => send('finishRecording', c, { recordingId }, { chunkCount }),
    listRecordings: async (patientId, c) => (await send('listRecordings', c, { patientId })).recordings,
    async chunks(recordingId, from, limit, purpose, c) {
      const qs = new URLSearchParams({ from: String(from), limit: String(limit), purpose }).toString();
      return (await send('recordingChunks', c, { recordingId }, undefined, qs)).chunks;
    },
    deleteRecording: (recordingId, reason, c) => send('deleteRecording', c, { recordingId }, { reason }),
  };
}
