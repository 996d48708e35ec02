/** What every route and service gets: the database, the key service, configuration, clock and log. */
import type { Db } from './db/db';
import type { KeyProvider } from './keys/key-provider';
import type { LogLine } from './http/log';

export interface ServerConfig {
  /** Access token lifetime (≤ 900 s: the JWT lives at most 15 minutes). */
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  maxFailedLogins: number;
  lockoutMinutes: number;
  enrollmentCodeMinutes: number;
  breakGlassMinutes: number;
  rateMonitor: {
    /** Flag when accesses in the last hour exceed factor × the user's trailing hourly average. */
    factor: number;
    /** Hours of history the average is taken over (excluding the last hour). */
    trailingHours: number;
    /** Never flag below this many accesses in an hour (a new user has no history). */
    minAccesses: number;
  };
}

export const DEFAULT_CONFIG: ServerConfig = {
  accessTtlSeconds: 900,
  refreshTtlSeconds: 12 * 3600,
  maxFailedLogins: 5,
  lockoutMinutes: 15,
  enrollmentCodeMinutes: 24 * 60,
  breakGlassMinutes: 60,
  rateMonitor: { factor: 3, trailingHours: 7 * 24, minAccesses: 30 },
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
}
