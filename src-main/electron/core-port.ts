/**
 * What the shell needs from the workstation core (src-main/core/workstation.ts). Declared here, as
 * the narrowest port, so the shell's pure modules and their tests do not depend on how the core is
 * composed; main.ts passes the real workstation, and the type checker holds the two together.
 */
import type { ApiResult, EhrEvent, LockReason } from '../../src-shared/api';

export type ShellLockReason = Extract<LockReason, 'idle' | 'screen-lock' | 'suspend' | 'user'>;

export interface ShellCore {
  /** One API call; validates the input and enforces session, lock and permissions. Never throws PHI. */
  invoke(channel: string, input: unknown): Promise<ApiResult<unknown>>;
  /** Events for the renderer; returns the unsubscribe function. */
  onEvent(listener: (event: EhrEvent) => void): () => void;
  /** Locks every session now: the core drops its secrets and refuses data calls until unlock. */
  lockNow(reason: ShellLockReason): unknown;
  /**
   * True while the signed-in user in front hosts an open video visit and IT policy allows video
   * visits: the only time the window may use the camera and microphone (security.ts permissionDecision).
   */
  mediaCaptureAllowed(): boolean;
  /** Flushes the outbox when online, then closes the vault cleanly. */
  close(): Promise<void>;
}
