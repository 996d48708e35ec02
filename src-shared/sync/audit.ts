/**
 * Audit ingest and query. An entry is the device's hash-chained audit record, checkpoint-signed with Ed25519
 * (src-shared/audit, verified with src-shared/node/audit-chain.ts). Every string is an id or a
 * code — the schema's character classes leave no room for a name or a sentence.
 */
import { z } from 'zod';
import type { AuditEvent } from '@medplum/fhirtypes';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_SEVERITIES, AUDIT_TYPES, type AuditChainLink, type AuditEntry, type QuarantinedAuditLink } from '../audit';
import { B64uSchema, CorrelationIdSchema, IdSchema, Int4Schema, Int8Schema, IsoDateTimeSchema, LIMITS } from './common';

const CodeSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);
const HexHashSchema = z.string().regex(/^[0-9a-f]{64}$/);
/** The acting user's roles, comma-separated (a user may hold several, e.g. "physician,admin"). */
const RoleListSchema = z.string().regex(/^[a-z_]{1,32}(,[a-z_]{1,32}){0,7}$/);

export { AUDIT_ACTIONS };

/** What every link of a device's chain carries, a whole entry or a quarantined placeholder. */
const chainLinkFields = {
  deviceId: IdSchema,
  seq: Int8Schema.min(1),
  prevHash: HexHashSchema,
  hash: HexHashSchema,
  /** Checkpoints only; the last entry of every batch must be one. */
  signature: B64uSchema.min(80).max(100).optional(),
  at: IsoDateTimeSchema,
};

/**
 * One device audit entry exactly as the vault chains it (src-shared/audit/types.ts AuditEntry):
 * strict, so the server hashes the same bytes the device did and nothing else rides along.
 */
export const AuditEntrySchema = z
  .object({
    ...chainLinkFields,
    action: z.enum(AUDIT_ACTIONS),
    type: z.enum(AUDIT_TYPES),
    outcome: z.enum(AUDIT_OUTCOMES),
    severity: z.enum(AUDIT_SEVERITIES),
    userId: IdSchema.nullable(),
    role: RoleListSchema.nullable(),
    patientId: IdSchema.nullable().optional(),
    resourceRefs: z.array(z.string().regex(/^[A-Za-z]{1,64}\/[A-Za-z0-9._:-]{1,128}$/)).max(LIMITS.auditRefsPerEntry).optional(),
    beforeHash: HexHashSchema.nullable().optional(),
    afterHash: HexHashSchema.nullable().optional(),
    correlationId: CorrelationIdSchema.or(IdSchema),
    reasonCode: CodeSchema.nullable().optional(),
  })
  .strict() satisfies z.ZodType<AuditEntry>;
export type WireAuditEntry = AuditEntry;

/**
 * The placeholder of a quarantined entry (src-shared/audit/types.ts QuarantinedAuditLink): its link
 * in the chain, no content. The server stores it as a 'quarantined' row and raises an alert.
 */
export const QuarantinedAuditLinkSchema = z
  .object({
    ...chainLinkFields,
    quarantined: z.literal(true),
    reason: CodeSchema,
  })
  .strict() satisfies z.ZodType<QuarantinedAuditLink>;

/** What a batch carries: entries, and placeholders of quarantined ones (told apart by `quarantined`). */
export const AuditChainLinkSchema = z.union([AuditEntrySchema, QuarantinedAuditLinkSchema]) satisfies z.ZodType<AuditChainLink>;
export type WireAuditLink = AuditChainLink;

/**
 * POST /v1/audit (header x-audit-correlation-id): one device's entries, in seq order, continuing its
 * chain, the last one a signed checkpoint (which vouches for the whole batch through the hashes).
 */
export const AuditIngestRequestSchema = z
  .object({ deviceId: IdSchema, entries: z.array(AuditChainLinkSchema).min(1).max(LIMITS.auditBatch) })
  .strict();
export type AuditIngestRequest = z.infer<typeof AuditIngestRequestSchema>;
/**
 * 200: all stored. The batch must continue the device's stored chain exactly.
 * 409 INTEGRITY with detail { problem: 'gap' | 'fork' | 'edit' | 'reorder' | 'signature' | 'unsigned' | 'device' | 'replay', seq, lastSeq }:
 * 'replay' = entries the server already holds were sent again (e.g. a retry after a lost answer) —
 * drop entries up to lastSeq and send the rest.
 */
export const AuditIngestResponseSchema = z
  .object({ accepted: Int4Schema, lastSeq: Int8Schema, lastHash: z.string() })
  .strict();
export type AuditIngestResponse = z.infer<typeof AuditIngestResponseSchema>;

/** GET /v1/privacy/audit (privacy_officer, admin): query by patient, user, time. GET /v1/privacy/audit/fhir: the same as a FHIR Bundle of AuditEvent. */
export const AuditQuerySchema = z
  .object({
    patientId: IdSchema.optional(),
    userId: IdSchema.optional(),
    from: IsoDateTimeSchema.optional(),
    to: IsoDateTimeSchema.optional(),
    source: z.enum(['device', 'server', 'all']).default('all'),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();
export type AuditQuery = z.input<typeof AuditQuerySchema>;

/** The server's own audit rows (logins, key access, pulls, refusals) and the ingested device rows, in one shape. */
export const AuditRowSchema = z
  .object({
    source: z.enum(['device', 'server']),
    id: z.string(),
    at: IsoDateTimeSchema,
    deviceId: IdSchema.nullable(),
    userId: IdSchema.nullable(),
    patientId: IdSchema.nullable(),
    type: CodeSchema,
    action: z.enum(AUDIT_ACTIONS),
    outcome: CodeSchema,
    severity: CodeSchema,
    correlationId: z.string().nullable(),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
  })
  .strict();
export type AuditRow = z.infer<typeof AuditRowSchema>;
export const AuditQueryResponseSchema = z.object({ rows: z.array(AuditRowSchema) }).strict();

/** GET /v1/privacy/audit/fhir — a FHIR R4 Bundle (type collection) of AuditEvent resources. */
export const AuditBundleSchema = z
  .object({
    resourceType: z.literal('Bundle'),
    type: z.literal('collection'),
    entry: z.array(
      z.object({
        resource: z.custom<AuditEvent>((v) => typeof v === 'object' && v !== null && (v as { resourceType?: unknown }).resourceType === 'AuditEvent'),
      }),
    ),
  })
  .strict();
