/** What the telemedicine service works with; built once by the workstation (fakes in unit tests). */
import type { EhrEvent } from '../../../src-shared/api';
import type { AuditWriter } from '../audit';
import type { UserSession } from '../session';
import type { PendingChunkStore } from './pending-chunks';
import type { SealingKey } from './recording-seal';
import type { SignalConnector } from './signal-socket';
import type { VisitRegistry } from './visit-registry';
import type { VisitServer } from './visit-server';

export interface TelemedicineKeys {
  /** The patient's current data key (cached, else from the key service). */
  sealingKey(patientId: string): Promise<SealingKey>;
  /** The key an envelope names. */
  openingKey(patientId: string, keyId: string): Promise<SealingKey>;
}

export interface TelemedicineDeps {
  server: VisitServer;
  signals: SignalConnector;
  keys: TelemedicineKeys;
  pending: PendingChunkStore;
  audit: AuditWriter;
  emit(event: EhrEvent): void;
  /** Makes this session's server tokens the ones the shared client sends (several users per workstation). */
  useSession(session: UserSession): void;
  /** The session's bearer access token for the signalling upgrade, or null (offline sign-in). */
  accessToken(session: UserSession): string | null;
  /**
   * Refreshes the session's tokens in place (one use of its rotating refresh token): a signalling
   * upgrade refused with 401 — a reconnect long after the last REST call — gets one retry with the
   * new access token. Absent in unit tests without a server client.
   */
  refreshSession?(session: UserSession): Promise<void>;
  now(): Date;
}

export interface TelemedicineState extends TelemedicineDeps {
  registry: VisitRegistry;
}
