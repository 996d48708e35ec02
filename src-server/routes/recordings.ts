/** Sealed visit recordings and their access log (HTTP only; rules in services/recordings.ts). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { Int4Schema, ROUTES } from '../../src-shared/sync';
import type { ServerContext } from '../context';
import { defineRoute } from '../http/route';
import { accessLog, deleteRecording, finishRecording, listRecordings, putChunk, readChunks, startRecording } from '../services/recordings';

const SeqParam = z.coerce.number().pipe(Int4Schema);

export function recordingRoutes(ctx: ServerContext) {
  return async (app: FastifyInstance): Promise<void> => {
    defineRoute(app, ctx, ROUTES.startRecording, async ({ body, params, principal, correlationId }) =>
      startRecording(ctx, principal, params.visitId!, body.recordingId, body.meta, correlationId),
    );
    defineRoute(app, ctx, ROUTES.putRecordingChunk, async ({ body, params, principal }) => {
      const seq = SeqParam.safeParse(params.seq);
      if (!seq.success) throw new EhrError(ErrorCode.INVALID, 'The chunk position is not valid.');
      await putChunk(ctx, principal, params.recordingId!, seq.data, body.envelope);
      return { ok: true as const };
    });
    defineRoute(app, ctx, ROUTES.finishRecording, async ({ body, params, principal, correlationId }) =>
      finishRecording(ctx, principal, params.recordingId!, body.chunkCount, correlationId),
    );
    defineRoute(app, ctx, ROUTES.listRecordings, async ({ params, principal, correlationId }) => ({
      recordings: await listRecordings(ctx, principal, params.patientId!, correlationId),
    }));
    defineRoute(app, ctx, ROUTES.recordingChunks, async ({ query, params, principal, correlationId }) => ({
      chunks: await readChunks(ctx, principal, params.recordingId!, query, correlationId),
    }));
    defineRoute(app, ctx, ROUTES.deleteRecording, async ({ body, params, principal, correlationId }) =>
      deleteRecording(ctx, principal, params.recordingId!, body.reason, correlationId),
    );
    defineRoute(app, ctx, ROUTES.recordingAccess, async ({ query }) => ({ events: await accessLog(ctx, query) }), { roles: ['privacy_officer'] });
  };
}
