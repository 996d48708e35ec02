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
