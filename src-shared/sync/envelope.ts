/**
 * The only shape a record may take on the wire and on the server: an AES-256-GCM envelope
 * (sealed/opened by src-shared/node/envelope.ts). Strict: any extra key, or anything that looks
 * like a FHIR resource, is refused — that is how plaintext PHI is kept out of the server.
 */
import { z } from 'zod';
import { B64uSchema, IdSchema, Int4Schema, LIMITS } from './common';

export const EnvelopeSchema = z
  .object({
    v: z.literal(1),
    recordId: IdSchema,
    patientId: IdSchema,
    /** FHIR resource type name only (e.g. "Observation"); the resource itself is in ct. */
    resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/),
    version: Int4Schema.min(1),
    keyId: IdSchema,
    /** 96-bit nonce: 16 base64url characters. */
    nonce: B64uSchema.length(16),
    ct: B64uSchema.max(LIMITS.ctChars),
    /** 128-bit GCM tag: 22 base64url characters. */
    tag: B64uSchema.length(22),
  })
  .strict();
export type WireEnvelope = z.infer<typeof EnvelopeSchema>;
