import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import { enrollmentCode, enrollWorkstation, isEnrolled, readMarker, writeMarker } from '../../src-main/electron/enrollment';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ehr-enroll-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = { code: 'ABCD-EFGH-1234', deviceId: 'dev-1', serverUrl: 'https://s.example', publicKey: 'k'.repeat(43), name: 'ws-12' };

describe('enrollment code source', () => {
  it('takes --enroll-code= from the command line, in installed and development builds', () => {
    expect(enrollmentCode(['app', '--enroll-code=XY12-3456'], {}, true)).toBe('XY12-3456');
    expect(enrollmentCode(['app', '--enroll-code=XY12-3456'], {}, false)).toBe('XY12-3456');
  });

  it('takes the development variable only in an unpackaged build', () => {
    const env = { EHR_DEV_ENROLLMENT_CODE: 'DEV-CODE-1' };
    expect(enrollmentCode(['app'], env, false)).toBe('DEV-CODE-1');
    expect(enrollmentCode(['app'], env, true)).toBeUndefined();
    expect(enrollmentCode(['app', '--enroll-code='], {}, true)).toBeUndefined();
  });
});

describe('enrolling', () => {
  it('sends the code, the device public key and the machine name', async () => {
    const enroll = vi.fn(async () => ({}));
    const marker = await enrollWorkstation({ ...base, enroll, now: () => new Date('2026-01-02T03:04:05Z') });
    expect(enroll).toHaveBeenCalledWith({ code: base.code, publicKey: base.publicKey, name: 'ws-12' });
    expect(marker).toEqual({ deviceId: 'dev-1', serverUrl: 'https://s.example', enrolledAt: '2026-01-02T03:04:05.000Z' });
  });

  it('a server that already knows this device counts as enrolled', async () => {
    const enroll = async () => {
      throw new EhrError(ErrorCode.CONFLICT, 'A device with this id is already enrolled.');
    };
    await expect(enrollWorkstation({ ...base, enroll })).resolves.toMatchObject({ deviceId: 'dev-1' });
  });

  it("passes on the server's refusal (wrong or used code) and hides transport errors behind a plain message", async () => {
    const refused = async () => {
      throw new EhrError(ErrorCode.FORBIDDEN, 'The enrollment code is wrong, used or expired; ask IT for a new one.');
    };
    await expect(enrollWorkstation({ ...base, enroll: refused })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const down = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.5:8443');
    };
    const e = await enrollWorkstation({ ...base, enroll: down }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EhrError);
    expect((e as EhrError).message).not.toContain('10.0.0.5');
  });

  it('remembers the enrollment per device and server, in a file only the user can read', () => {
    const file = path.join(tmp, 'enrollment.json');
    expect(isEnrolled(readMarker(file), 'dev-1', base.serverUrl)).toBe(false);
    writeMarker(file, { deviceId: 'dev-1', serverUrl: base.serverUrl, enrolledAt: 'x' });
    expect(isEnrolled(readMarker(file), 'dev-1', base.serverUrl)).toBe(true);
    expect(isEnrolled(readMarker(file), 'dev-2', base.serverUrl)).toBe(false); // a new vault is a new device
    expect(isEnrolled(readMarker(file), 'dev-1', 'https://other.example')).toBe(false);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o077).toBe(0);
  });
});
