/** Events the main process pushes to the renderer (window.ehr.on). Payloads carry ids, never PHI. */
import type { LockReason, SessionStatus, SyncStatus } from './types';
import type { SignalMessage } from '../sync/visits';

export interface EventPayloads {
  /** Anything about the session changed (login, logout, lock, unlock, switch, break-glass). */
  'session.changed': SessionStatus;
  /** The inactivity lock fires at `lockAt` unless activity arrives. */
  'session.lockWarning': { lockAt: number; secondsLeft: number };
  /** Locked: the renderer must drop every PHI it holds and show the unlock screen. */
  'session.locked': { reason: LockReason; userId: string };
  'session.unlocked': { userId: string };
  'sync.status': SyncStatus;
  /** A break-glass grant ends soon (sent once, at the policy warning before expiry). */
  'breakGlass.expiring': { patientId: string; expiresAt: number };
  /** A break-glass grant ended: the chart must close now; further calls answer FORBIDDEN. */
  'breakGlass.expired': { patientId: string; grantId: string };
  /**
   * A background sync changed these patients' charts on this workstation (ids only, and only
   * patients the user in front may open): an open chart among them is re-read; no other is.
   */
  'records.changed': { patientIds: string[] };
  /** A signalling message from the patient's page (or the server) for a visit of this session. */
  'visits.signal': { visitId: string; message: SignalMessage };
  /** The visit is over (ended here or by the server, signed out, device revoked): hang up now. */
  'visits.ended': { visitId: string; reason: 'ended' | 'signed-out' | 'device-revoked' | 'expired' | 'transport-refused' | 'policy' };
}

export type EventName = keyof EventPayloads;
export const EVENT_NAMES: EventName[] = [
  'session.changed',
  'session.lockWarning',
  'session.locked',
  'session.unlocked',
  'sync.status',
  'breakGlass.expiring',
  'breakGlass.expired',
  'records.changed',
  'visits.signal',
  'visits.ended',
];

/** One event as main emits it (the shell forwards it to the renderer as-is). */
export type EhrEvent = { [E in EventName]: { event: E; payload: EventPayloads[E] } }[EventName];
