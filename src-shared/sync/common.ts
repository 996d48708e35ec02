/**
 * Building blocks of the sync wire protocol shared by every route: ids, base64url, the audit
 * correlation header and the error body. Pure zod (no Node), so the client, the server and the
 * renderer's types all agree on one definition.
 */
import { z } from 'zod';
import { ErrorCode } from '../errors';

/** Every route lives under this prefix; bump it for an incompatible change. */
export const API_PREFIX = '/v1';

/** Required (403 without it) on every route that touches PHI or keys; ties server audit to the client's. */
export const CORRELATION_HEADER = 'x-audit-correlation-id';
export const CorrelationIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, 'must be 8-128 id characters');

/** Opaque ids: letters, digits and -_.: only, so an id can never smuggle SQL, markup or a name. */
export const IdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 id characters');
export type Id = z.infer<typeof IdSchema>;

/** base64url without padding (RFC 4648 §5). */
export const B64uSchema = z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be base64url');

/**
 * Bounds of the database columns numbers land in: a number outside its column's range is refused
 * at the schema (400) instead of reaching the database (numeric out of range -> 500).
 * int4 columns (versions, counts) and bigint columns (audit seq) whose JavaScript form is exact up
 * to Number.MAX_SAFE_INTEGER.
 */
export const INT4_MAX = 2_147_483_647;
export const INT8_JS_MAX = Number.MAX_SAFE_INTEGER;
/** A value of an int4 column (versions, counts): 0 .. 2^31 - 1. */
export const Int4Schema = z.number().int().min(0).max(INT4_MAX);
/** A value of a bigint column carried as a JSON number (audit chain seq): 0 .. 2^53 - 1. */
export const Int8Schema = z.number().int().min(0).max(INT8_JS_MAX);

export const IsoDateTimeSchema = z.iso.datetime({ offset: true });

export const ROLES = ['nurse', 'physician', 'billing', 'admin', 'privacy_officer'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** The body of every non-2xx answer: a code, a PHI-free message, ids/counts only. Never a stack. */
export const ErrorBodySchema = z
  .object({
    code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  })
  .strict();
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Body limits the server enforces (and a client can check before sending). */
export const LIMITS = {
  /** Whole request body, bytes. */
  bodyBytes: 8 * 1024 * 1024,
  /** Envelope ciphertext, base64url characters (~1 MiB plaintext). */
  ctChars: 1_400_000,
  pushBatch: 500,
  pullLimitMax: 2000,
  pullLimitDefault: 200,
  auditBatch: 2000,
  /** resourceRefs per audit entry: a read of more records is written as several entries (one correlation id). */
  auditRefsPerEntry: 100,
  /** JSON nesting depth accepted before schema validation even runs. */
  jsonDepth: 16,
} as const;
