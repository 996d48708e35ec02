/**
 * Typed, PHI-free errors shared by every layer.
 *
 * A message here is read by clinicians, IT and log collectors, so it names what went wrong and
 * what to do about it, and never carries patient data: only codes and opaque ids. Details that
 * help an engineer go into `detail` as ids/counts, never free text from a record.
 */
export const ErrorCode = {
  NO_SESSION: 'NO_SESSION',
  LOCKED: 'LOCKED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  INVALID: 'INVALID',
  CONFLICT: 'CONFLICT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  ACCOUNT_LOCKED: 'ACCOUNT_LOCKED',
  OFFLINE: 'OFFLINE',
  TOO_LARGE: 'TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  INTEGRITY: 'INTEGRITY',
  KEYCHAIN_UNAVAILABLE: 'KEYCHAIN_UNAVAILABLE',
  VAULT_UNAVAILABLE: 'VAULT_UNAVAILABLE',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Ids and counts only: never names, dates of birth, note text or any other record content. */
export type SafeDetail = Record<string, string | number | boolean | null>;

export class EhrError extends Error {
  override readonly name: string = 'EhrError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: SafeDetail,
  ) {
    super(message);
  }

  /** The shape that crosses IPC and HTTP: no stack, no cause chain. */
  toJSON(): { code: ErrorCode; message: string; detail?: SafeDetail } {
    return this.detail ? { code: this.code, message: this.message, detail: this.detail } : { code: this.code, message: this.message };
  }
}

export function isEhrError(e: unknown): e is EhrError {
  return e instanceof EhrError;
}
