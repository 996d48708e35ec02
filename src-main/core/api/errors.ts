/**
 * The few errors handlers raise, worded once: what happened and what the user can do, ids only.
 * Whatever else escapes a handler is reduced to a code by `toApiError`, never its message.
 */
import { z } from 'zod';
import type { ApiError } from '../../../src-shared/api';
import { EhrError, ErrorCode, isEhrError } from '../../../src-shared/errors';

export const noSession = () => new EhrError(ErrorCode.NO_SESSION, 'Nobody is signed in on this workstation. Sign in to continue.');
export const locked = () => new EhrError(ErrorCode.LOCKED, 'The session is locked. Enter your password to unlock it.');
export const forbiddenAction = (channel: string) =>
  new EhrError(ErrorCode.FORBIDDEN, 'Your role does not allow this action.', { channel });
/**
 * Ids in errors are echoed only when they name something that exists: a caller-chosen "id" could be
 * any text (a name typed into an id field), and an error must never carry it back or log it.
 */
export const forbiddenPatient = (knownPatientId: string | null) =>
  new EhrError(
    ErrorCode.FORBIDDEN,
    'This patient is not on your care team. Use emergency access (break-glass) if it is clinically necessary.',
    knownPatientId ? { patientId: knownPatientId } : undefined,
  );
export const notFound = (what: string) => new EhrError(ErrorCode.NOT_FOUND, `The ${what} was not found.`);
export const invalid = (message: string, detail?: Record<string, string | number | boolean | null>) =>
  new EhrError(ErrorCode.INVALID, message, detail);

/** Zod's own messages can quote input values: only the offending field's path leaves here. */
export function fromZod(e: z.ZodError): EhrError {
  const first = e.issues[0];
  const field = first ? first.path.map(String).join('.') : '';
  const tooBig = e.issues.some((i) => i.code === 'too_big' || (i.code === 'custom' && /exceeds/.test(i.message)));
  return new EhrError(tooBig ? ErrorCode.TOO_LARGE : ErrorCode.INVALID, tooBig ? 'The request is too large.' : 'The request is not valid.', {
    field: field.slice(0, 100).replace(/[^A-Za-z0-9._-]/g, '_') || '(root)',
    issues: e.issues.length,
  });
}

/** The only error shape that crosses the bridge. Unknown errors become INTERNAL with a fixed message. */
export function toApiError(e: unknown): ApiError {
  if (isEhrError(e)) return e.toJSON();
  if (e instanceof z.ZodError) return fromZod(e).toJSON();
  return { code: ErrorCode.INTERNAL, message: 'Something went wrong on this workstation. Nothing was changed; try again or contact IT.' };
}
