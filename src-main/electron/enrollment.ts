/**
 * Enrolling this workstation with the sync server: the server accepts logins only from enrolled
 * devices, and enrollment takes a one-time code an admin issues. IT runs the installed app once with
 * `--enroll-code=<code>` (quit it first); `npm start` passes the code the development server prints.
 * The outcome is remembered in a small non-PHI marker (device id + server) so the code is not spent
 * again on every start.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EhrError, ErrorCode, isEhrError } from '../../src-shared/errors';

export const ENROLL_SWITCH = '--enroll-code=';
export const DEV_ENROLLMENT_ENV = 'EHR_DEV_ENROLLMENT_CODE';

/** The code to enroll with, if any: the command-line switch always; the variable only in development. */
export function enrollmentCode(argv: readonly string[], env: Record<string, string | undefined>, isPackaged: boolean): string | undefined {
  const arg = argv.find((a) => a.startsWith(ENROLL_SWITCH));
  const code = arg ? arg.slice(ENROLL_SWITCH.length) : isPackaged ? undefined : env[DEV_ENROLLMENT_ENV];
  return code && code.trim() ? code.trim() : undefined;
}

export interface EnrollmentMarker {
  deviceId: string;
  serverUrl: string;
  enrolledAt: string;
}

/** Already enrolled with this server as this device? (A new vault has a new device id.) */
export function isEnrolled(marker: unknown, deviceId: string, serverUrl: string): boolean {
  const m = marker as Partial<EnrollmentMarker> | null | undefined;
  return !!m && m.deviceId === deviceId && m.serverUrl === serverUrl;
}

export interface EnrollOptions {
  code: string;
  deviceId: string;
  serverUrl: string;
  publicKey: string;
  name: string;
  enroll: (req: { code: string; publicKey: string; name: string }) => Promise<unknown>;
  now?: () => Date;
}

/**
 * Enrolls, and returns the marker to remember. A server that already knows this device (CONFLICT)
 * counts as enrolled. Any other refusal is an EhrError the shell shows (the server's messages are
 * PHI-free and say what to do, e.g. "ask IT for a new one").
 */
export async function enrollWorkstation(o: EnrollOptions): Promise<EnrollmentMarker> {
  const marker = { deviceId: o.deviceId, serverUrl: o.serverUrl, enrolledAt: (o.now ?? (() => new Date()))().toISOString() };
  try {
    await o.enroll({ code: o.code, publicKey: o.publicKey, name: o.name.slice(0, 100) });
    return marker;
  } catch (e) {
    if (isEhrError(e) && e.code === ErrorCode.CONFLICT) return marker;
    if (isEhrError(e)) throw e;
    throw new EhrError(ErrorCode.OFFLINE, 'This workstation could not be enrolled: the sync server did not answer. Check the network and try again.');
  }
}

export function readMarker(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

export function writeMarker(file: string, marker: EnrollmentMarker): void {
  writeFileSync(file, JSON.stringify(marker, null, 2) + '\n', { mode: 0o600 });
}
