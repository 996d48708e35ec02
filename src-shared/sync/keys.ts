/** Key service: wrap a client-created patient data key; unwrap it for a caller allowed to see the patient. */
import { z } from 'zod';
import { B64uSchema, IdSchema, IsoDateTimeSchema } from './common';

/** 32-byte AES-256 key, base64url (43 characters). Sent only inside TLS; stored only wrapped by the KEK. */
export const DataKeySchema = B64uSchema.length(43);

/**
 * POST /v1/keys/wrap (header x-audit-correlation-id). Idempotent for the same (keyId, key);
 * 409 CONFLICT if keyId already holds a different key.
 */
export const WrapKeyRequestSchema = z.object({ patientId: IdSchema, keyId: IdSchema, dataKey: DataKeySchema }).strict();
export type WrapKeyRequest = z.infer<typeof WrapKeyRequestSchema>;
export const WrapKeyResponseSchema = z
  .object({ patientId: IdSchema, keyId: IdSchema, createdAt: IsoDateTimeSchema })
  .strict();
export type WrapKeyResponse = z.infer<typeof WrapKeyResponseSchema>;

/** POST /v1/keys/unwrap (header x-audit-correlation-id). No keyId: every key of the patient. 403 + audited if not allowed. */
export const UnwrapKeyRequestSchema = z.object({ patientId: IdSchema, keyId: IdSchema.optional() }).strict();
export type UnwrapKeyRequest = z.infer<typeof UnwrapKeyRequestSchema>;
export const UnwrapKeyResponseSchema = z
  .object({
    patientId: IdSchema,
    keys: z.array(z.object({ keyId: IdSchema, dataKey: DataKeySchema, createdAt: IsoDateTimeSchema }).strict()),
  })
  .strict();
export type UnwrapKeyResponse = z.infer<typeof UnwrapKeyResponseSchema>;

/** Keys per batch unwrap: a pull page of 2,000 records can name at most 2,000 (patient, key) pairs. */
export const UNWRAP_BATCH_MAX = 2000;

/**
 * POST /v1/keys/unwrap-batch (header x-audit-correlation-id): several patients' keys in one round
 * trip — an initial sync meets thousands of care-team patients, one unwrap each was most of its
 * time. Same rule and same audit per patient as /v1/keys/unwrap; a patient the caller may not see,
 * or without the key, is listed in `refused` (and audited) instead of failing the whole batch.
 */
export const UnwrapKeysBatchRequestSchema = z
  .object({ keys: z.array(z.object({ patientId: IdSchema, keyId: IdSchema }).strict()).min(1).max(UNWRAP_BATCH_MAX) })
  .strict();
export type UnwrapKeysBatchRequest = z.infer<typeof UnwrapKeysBatchRequestSchema>;
export const UnwrapKeysBatchResponseSchema = z
  .object({
    keys: z.array(z.object({ patientId: IdSchema, keyId: IdSchema, dataKey: DataKeySchema, createdAt: IsoDateTimeSchema }).strict()),
    refused: z.array(z.object({ patientId: IdSchema, keyId: IdSchema, code: z.enum(['FORBIDDEN', 'NOT_FOUND']) }).strict()),
  })
  .strict();
export type UnwrapKeysBatchResponse = z.infer<typeof UnwrapKeysBatchResponseSchema>;
