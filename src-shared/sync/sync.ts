/** Push (idempotent by mutationId, optimistic on baseVersion) and pull (cursor, paginated). */
import { z } from 'zod';
import { INT4_MAX, IdSchema, Int4Schema, IsoDateTimeSchema, LIMITS } from './common';
import { EnvelopeSchema } from './envelope';

export const MutationOpSchema = z.enum(['upsert', 'delete']);
export type MutationOp = z.infer<typeof MutationOpSchema>;

/**
 * One change to one record. baseVersion is the version the client edited (0 for a new record);
 * the envelope is sealed as version baseVersion + 1 (its AAD binds the version).
 * A delete carries a sealed tombstone so that even the fact of deletion is bound to its record.
 */
export const MutationSchema = z
  .object({
    mutationId: IdSchema,
    op: MutationOpSchema,
    /** int4 like records.version, and one below its top: the envelope is sealed as baseVersion + 1. */
    baseVersion: Int4Schema.max(INT4_MAX - 1),
    envelope: EnvelopeSchema,
  })
  .strict();
export type Mutation = z.infer<typeof MutationSchema>;

/** POST /v1/sync/push (header x-audit-correlation-id) */
export const PushRequestSchema = z
  .object({ mutations: z.array(MutationSchema).min(1).max(LIMITS.pushBatch) })
  .strict();
export type PushRequest = z.infer<typeof PushRequestSchema>;

export const RecordMetaSchema = z
  .object({
    authorUserId: IdSchema,
    deviceId: IdSchema,
    at: IsoDateTimeSchema,
    deleted: z.boolean(),
  })
  .strict();
export type RecordMeta = z.infer<typeof RecordMetaSchema>;

/**
 * Per mutation, in request order:
 * - applied: stored as `version`;
 * - duplicate: this mutationId was already applied (replay or retry) — `version` is what it produced;
 * - conflict: baseVersion is stale; the server kept the client's envelope too (as a conflict copy,
 *   nothing is overwritten) and returns its current envelope for a clinician to resolve. A retry of
 *   the same mutationId answers `conflict` again (with the current head) and stores nothing new;
 *   the resolution is a new mutation on top of serverVersion;
 * - rejected: the mutation is not allowed (patient outside the user's access, binding mismatch).
 */
export const MutationResultSchema = z.discriminatedUnion('status', [
  z.object({ mutationId: IdSchema, status: z.literal('applied'), version: Int4Schema }).strict(),
  z.object({ mutationId: IdSchema, status: z.literal('duplicate'), version: Int4Schema }).strict(),
  z
    .object({
      mutationId: IdSchema,
      status: z.literal('conflict'),
      serverVersion: Int4Schema,
      serverEnvelope: EnvelopeSchema,
      serverMeta: RecordMetaSchema,
    })
    .strict(),
  z.object({ mutationId: IdSchema, status: z.literal('rejected'), code: z.string(), message: z.string() }).strict(),
]);
export type MutationResult = z.infer<typeof MutationResultSchema>;
export const PushResponseSchema = z.object({ results: z.array(MutationResultSchema) }).strict();
export type PushResponse = z.infer<typeof PushResponseSchema>;

/**
 * GET /v1/sync/pull?cursor=&limit=&patientId= (header x-audit-correlation-id)
 * Only records of patients this user may see. The cursor is opaque; resuming with the last
 * nextCursor never skips or repeats a record. patientId narrows to one patient (403 if not allowed).
 */
export const PullQuerySchema = z
  .object({
    cursor: z.string().regex(/^[A-Za-z0-9_-]{0,64}$/).optional(),
    limit: z.coerce.number().int().min(1).max(LIMITS.pullLimitMax).default(LIMITS.pullLimitDefault),
    patientId: IdSchema.optional(),
  })
  .strict();
export type PullQuery = z.input<typeof PullQuerySchema>;

export const PulledRecordSchema = z
  .object({ envelope: EnvelopeSchema, meta: RecordMetaSchema })
  .strict();
export type PulledRecord = z.infer<typeof PulledRecordSchema>;
export const PullResponseSchema = z
  .object({
    records: z.array(PulledRecordSchema),
    nextCursor: z.string(),
    hasMore: z.boolean(),
    /** Records this user may receive in total (all pages). */
    total: Int4Schema,
    /**
     * The server's clock when it read this page (additive; older servers omit it). A pull's first
     * page time is what the client shows as "data as of" once the pull has run to its end.
     */
    serverTime: IsoDateTimeSchema.optional(),
  })
  .strict();
export type PullResponse = z.infer<typeof PullResponseSchema>;
