/**
 * The sync server's visit and recording routes (src-shared/sync/routes.ts, startVisit…deleteRecording)
 * as typed calls, through the shared authenticated call (sync/authed-call.ts): pinned TLS, the bearer
 * token of the session in front (refreshed once when it expired), the caller's correlation id so the
 * server's audit ties to ours, and every answer validated with the route's zod schema.
 */
import type { Envelope } from '../../../src-shared/node/envelope';
import type { IceServer, Recording, Visit, VisitLink } from '../../../src-shared/sync/visits';
import { authedCaller, type RouteAnswer, type RouteName } from '../sync/authed-call';
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

export function visitServerFromClient(client: Pick<ServerClient, 'call' | 'refresh'>): VisitServer {
  const call = authedCaller(client);
  const send = <R extends RouteName>(route: R, correlationId: string, params?: Record<string, string | number>, body?: unknown, query?: string): Promise<RouteAnswer<R>> =>
    call(route, { correlationId, ...(params ? { params } : {}), ...(body === undefined ? {} : { body }), ...(query ? { query } : {}) });
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
