/**
 * The privacy officer's clinic-wide review queue (routes under /v1/privacy/queue and
 * /v1/privacy/reviews): every item that needs a human decision, whatever raised it, in one shape.
 *
 * - `break-glass`: a grant the server issued (online), with reason, justification and duration.
 * - `offline-break-glass`: a grant a workstation took offline (its alert), with the justification
 *   once the workstation delivered it.
 * - `alert`: any other alert, by its `alertKind` as a plain string (access-rate, plaintext-refused,
 *   forged-chain, and kinds added later show without a protocol change).
 * - `refused-justification`: a workstation's delivery of an offline justification the server refused.
 *
 * A review ends with a disposition and a note, appended (never edited) and audited; the item keeps
 * every disposition ever given, newest last. Ids, codes and times only, except the free texts the
 * officer needs (justification, review notes), which the server keeps sealed at rest.
 */
import { z } from 'zod';
import { IdSchema, Int4Schema, IsoDateTimeSchema } from './common';

export const REVIEW_SUBJECTS = ['break-glass', 'offline-break-glass', 'alert', 'refused-justification'] as const;
export const ReviewSubjectSchema = z.enum(REVIEW_SUBJECTS);
export type ReviewSubject = z.infer<typeof ReviewSubjectSchema>;

export const DISPOSITIONS = ['appropriate', 'inappropriate', 'follow-up'] as const;
export const DispositionSchema = z.enum(DISPOSITIONS);
export type Disposition = z.infer<typeof DispositionSchema>;

const SafeDetailSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));

export const DispositionRecordSchema = z
  .object({
    disposition: DispositionSchema,
    note: z.string(),
    reviewerId: IdSchema,
    at: IsoDateTimeSchema,
  })
  .strict();
export type DispositionRecord = z.infer<typeof DispositionRecordSchema>;

export const ReviewItemSchema = z
  .object({
    subject: ReviewSubjectSchema,
    /** The grant id, the alert id, or the refused delivery's server audit id. */
    id: IdSchema,
    /** For `alert` (and the alerts behind offline grants): the alert's kind, any string. */
    alertKind: z.string().max(64).nullable(),
    severity: z.string().max(16).nullable(),
    userId: IdSchema.nullable(),
    patientId: IdSchema.nullable(),
    raisedAt: IsoDateTimeSchema,
    /** Break-glass: the coded reason, the free-text justification (null until delivered), start and end. */
    reason: z.string().max(64).nullable(),
    justification: z.string().nullable(),
    startsAt: IsoDateTimeSchema.nullable(),
    endsAt: IsoDateTimeSchema.nullable(),
    durationMinutes: Int4Schema.nullable(),
    /** The account's status now (access-rate alerts end in suspend or reinstate). */
    userStatus: z.string().max(16).nullable(),
    detail: SafeDetailSchema,
    /** Every disposition given, oldest first; the last one is the current decision. */
    dispositions: z.array(DispositionRecordSchema),
  })
  .strict();
export type ReviewItem = z.infer<typeof ReviewItemSchema>;

/** GET /v1/privacy/queue?open=true — open = no disposition yet. */
export const ReviewQueueQuerySchema = z.object({ open: z.enum(['true', 'false']).optional() }).strict();
export const ReviewQueueResponseSchema = z.object({ items: z.array(ReviewItemSchema) }).strict();

/** One audited access by the episode's user to the episode's patient, while the grant ran. */
export const EpisodeReadSchema = z
  .object({
    source: z.enum(['device', 'server']),
    at: IsoDateTimeSchema,
    type: z.string().max(64),
    action: z.string().max(1),
    deviceId: IdSchema.nullable(),
    /** The records read (e.g. "Observation/abc"), as the audit entry names them. */
    resourceRefs: z.array(z.string().max(200)),
  })
  .strict();
export type EpisodeRead = z.infer<typeof EpisodeReadSchema>;

/** GET /v1/privacy/queue/:subject/:id — the item and every record read during the grant. */
export const ReviewEpisodeResponseSchema = z.object({ item: ReviewItemSchema, reads: z.array(EpisodeReadSchema) }).strict();
export type ReviewEpisode = z.infer<typeof ReviewEpisodeResponseSchema>;

/** POST /v1/privacy/reviews — appends a disposition (audited); answers the item as it is now. */
export const DispositionRequestSchema = z
  .object({
    subject: ReviewSubjectSchema,
    id: IdSchema,
    disposition: DispositionSchema,
    note: z.string().trim().min(1).max(2000),
  })
  .strict();
export type DispositionRequest = z.infer<typeof DispositionRequestSchema>;

/** POST /v1/admin/users/:userId/suspend — suspends an account pending review, with a note. */
export const SuspendRequestSchema = z.object({ note: z.string().min(1).max(1000) }).strict();
