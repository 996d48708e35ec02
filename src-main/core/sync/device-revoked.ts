/** Recognising the server's "this workstation is revoked" answers (see docs/sync.md, "Device revoked"). */
import { EhrError, ErrorCode } from '../../../src-shared/errors';

/**
 * The server names our device id in a 401 when the device (not the token) is revoked, and in a
 * FORBIDDEN login for a device that is not (or no longer) enrolled. Token problems carry `why`.
 */
export function isDeviceRevoked(e: unknown, deviceId: string): boolean {
  if (!(e instanceof EhrError)) return false;
  if (e.detail?.reason === 'DEVICE_REVOKED' || e.detail?.why === 'device-revoked') return true;
  return (e.code === ErrorCode.UNAUTHENTICATED || e.code === ErrorCode.FORBIDDEN) && e.detail?.deviceId === deviceId && e.detail?.why === undefined;
}
