/** What every route and service gets: the database, the key service, configuration, clock and log. */
import type { Db } from './db/db';
import type { KeyProvider } from './keys/key-provider';
import type { LogLine } from './http/log';
import type { SignallingHub } from './services/signalling';
import type { TurnConfig } from './services/turn';

export interface ServerConfig {
  /** Access token lifetime (≤ 900 s: the JWT lives at most 15 minutes). */
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  maxFailedLogins: number;
  lockoutMinutes: number;
  /**
   * Failed password checks (sign-in and break-glass re-authentication alike) allowed per account
   * name and per source address within the window; over it: 429 with Retry-After.
   */
  authThrottle: { windowSeconds: number; perAccount: number; perSource: number };
  enrollmentCodeMinutes: number;
  breakGlassMinutes: number;
  rateMonitor: {
    /** Flag when accesses in the last hour exceed factor × the user's trailing hourly average. */
    factor: number;
    /** Hours of history the average is taken over (excluding the last hour). */
    trailingHours: number;
    /** Never flag below this many accesses in an hour (a new user has no history). */
    minAccesses: number;
    /** A device-reported read received this long after its entry time is flagged (alert on the device). */
    lateReportMinutes: number;
    /** A device may report entries of a user who held a session on it within this many hours. */
    offlineWindowHours: number;
  };
  /** Telemedicine: coturn with use-auth-secret (docs/telemedicine.md); null = host/STUN-less LAN candidates only. */
  turn: TurnConfig | null;
  /** A recording's deleteAfter: the server purges it then (chunks erased, tombstone and access row kept). */
  recordingRetentionDays: number;
  /** The https base URL patients' browsers reach this server on (patient links); default: the listening address. */
  publicUrl: string | null;
  /** The built patient page (vite.patient.config.ts); default <repo>/dist/patient-visit. */
  patientPageDir: string | null;
}

/** What startServer accepts: any subset, nested groups too (the rest from DEFAULT_CONFIG). */
export type ServerConfigInput = Partial<Omit<ServerConfig, 'rateMonitor' | 'authThrottle'>> & {
  rateMonitor?: Partial<ServerConfig['rateMonitor']>;
  authThrottle?: Partial<ServerConfig['authThrottle']>;
};

export const DEFAULT_CONFIG: ServerConfig = {
  accessTtlSeconds: 900,
  refreshTtlSeconds: 12 * 3600,
  maxFailedLogins: 5,
  lockoutMinutes: 15,
  authThrottle: { windowSeconds: 15 * 60, perAccount: 20, perSource: 100 },
  enrollmentCodeMinutes: 24 * 60,
  breakGlassMinutes: 60,
  rateMonitor: { factor: 3, trailingHours: 7 * 24, minAccesses: 30, lateReportMinutes: 60, offlineWindowHours: 7 * 24 },
  turn: null,
  recordingRetentionDays: 3650,
  publicUrl: null,
  patientPageDir: null,
};

export interface ServerContext {
  db: Db;
  keys: KeyProvider;
  config: ServerConfig;
  /** HS256 key shared by all instances (wrapped by the KEK in server_secrets). */
  jwtKey: Uint8Array;
  /** Seals free-text notes at rest (break-glass justifications, review notes). */
  notesKey: Buffer;
  log: (line: LogLine) => void;
  now: () => Date;
  /** Relays a visit's signalling between its two sockets (per instance). */
  signalling: SignallingHub;
  /** Where patient links point: config.publicUrl, else this instance's own address (set once listening). */
  publicUrl: string;
}
