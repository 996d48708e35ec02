import { describe, expect, it } from 'vitest';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import {
  applyUserSettings,
  DEV_POLICY_ENV,
  loadPolicy,
  parseRegQuery,
  POLICY_LOCATIONS,
  readMachinePolicy,
  resolveEffectivePolicy,
  type PolicyReaderDeps,
} from '../../src-main/core/policy';

const FP = 'AB:'.repeat(31) + 'AB';
const VALID = {
  serverUrl: 'https://ehr.clinic.example:8443',
  serverCertFingerprint: FP,
  lockTimeoutMinutes: 10,
  breakGlassReasons: ['ETREAT', 'BTG'],
};

const enoent = () => Object.assign(new Error('nope'), { code: 'ENOENT' });
const rootOwned = async () => ({ uid: 0, mode: 0o100644 });

/** Runs loadPolicy and returns the EhrError it throws. */
async function rejection(deps: PolicyReaderDeps & { userSettings?: unknown }): Promise<EhrError> {
  try {
    await loadPolicy(deps);
  } catch (e) {
    if (e instanceof EhrError) return e;
    throw e;
  }
  throw new Error('expected the policy to be refused');
}

describe('Windows registry (HKLM\\SOFTWARE\\Policies)', () => {
  const REG_OUTPUT = [
    '',
    'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Clinic\\ClinicEHR',
    '    serverUrl    REG_SZ    https://ehr.clinic.example:8443',
    `    serverCertFingerprint    REG_SZ    ${FP}`,
    '    lockTimeoutMinutes    REG_DWORD    0xa',
    '    offlineLoginDays    REG_DWORD    0x3',
    '    breakGlassReasons    REG_MULTI_SZ    ETREAT\\0BTG\\0CLINTRCH',
    '',
  ].join('\r\n');

  it('parses REG_SZ, REG_DWORD and REG_MULTI_SZ values', () => {
    expect(parseRegQuery(REG_OUTPUT)).toEqual({
      serverUrl: 'https://ehr.clinic.example:8443',
      serverCertFingerprint: FP,
      lockTimeoutMinutes: 10,
      offlineLoginDays: 3,
      breakGlassReasons: ['ETREAT', 'BTG', 'CLINTRCH'],
    });
  });

  it('queries the HKLM policies key without a shell and validates what it finds', async () => {
    const calls: string[][] = [];
    const eff = await loadPolicy({
      platform: 'win32',
      exec: async (file, args) => {
        calls.push([file, ...args]);
        return { code: 0, stdout: REG_OUTPUT };
      },
    });
    expect(calls).toEqual([['reg', 'query', POLICY_LOCATIONS.win32]]);
    expect(eff.policy.lockTimeoutMinutes).toBe(10);
    expect(eff.policy.serverCertFingerprint).toBe('ab'.repeat(32));
    expect(eff.policy.breakGlassMinutes).toBe(60); // schema default
    expect(eff.source).toBe(POLICY_LOCATIONS.win32);
  });

  it('a missing key means no policy: the app refuses to start and says where IT must put it', async () => {
    const e = await rejection({ platform: 'win32', exec: async () => ({ code: 1, stdout: '' }) });
    expect(e.code).toBe(ErrorCode.INVALID);
    expect(e.message).toContain('No IT policy');
    expect(e.message).toContain(POLICY_LOCATIONS.win32);
  });

  it('a REG_DWORD 0/1 switch becomes a boolean (the registry has no booleans)', async () => {
    const eff = await loadPolicy({
      platform: 'win32',
      exec: async () => ({ code: 0, stdout: `${REG_OUTPUT}\r\n    autoUpdate    REG_DWORD    0x0\r\n` }),
    });
    expect(eff.policy.autoUpdate).toBe(false);
    const bad = await rejection({
      platform: 'win32',
      exec: async () => ({ code: 0, stdout: `${REG_OUTPUT}\r\n    autoUpdate    REG_DWORD    0x2\r\n` }),
    });
    expect(bad.message).toContain('autoUpdate');
  });

  it('reg.exe that cannot run is reported as an unreadable policy, not a crash', async () => {
    const e = await rejection({ platform: 'win32', exec: async () => Promise.reject(Object.assign(new Error('spawn reg ENOENT C:\\x'), { code: 'ENOENT' })) });
    expect(e.message).toContain('reg could not be run');
    expect(e.message).not.toContain('C:\\x');
  });

  it('a REG_DWORD lock timeout of 30 is refused', async () => {
    const e = await rejection({
      platform: 'win32',
      exec: async () => ({ code: 0, stdout: REG_OUTPUT.replace('0xa', '0x1e') }),
    });
    expect(e.message).toMatch(/lockTimeoutMinutes/);
  });
});

describe('macOS managed preferences', () => {
  it('converts the managed plist with plutil and validates it', async () => {
    const calls: string[][] = [];
    const eff = await loadPolicy({
      platform: 'darwin',
      stat: rootOwned,
      exec: async (file, args) => {
        calls.push([file, ...args]);
        return { code: 0, stdout: JSON.stringify(VALID) };
      },
    });
    expect(calls).toEqual([['/usr/bin/plutil', '-convert', 'json', '-o', '-', POLICY_LOCATIONS.darwin]]);
    expect(eff.policy.serverUrl).toBe(VALID.serverUrl);
  });

  it("ignores the profile's own Payload* bookkeeping keys, but not other unknown keys", async () => {
    const withBookkeeping = { ...VALID, PayloadUUID: 'A1B2', PayloadType: 'org.clinic.ehr' };
    const eff = await loadPolicy({ platform: 'darwin', stat: rootOwned, exec: async () => ({ code: 0, stdout: JSON.stringify(withBookkeeping) }) });
    expect(eff.policy.lockTimeoutMinutes).toBe(10);
    const e = await rejection({ platform: 'darwin', stat: rootOwned, exec: async () => ({ code: 0, stdout: JSON.stringify({ ...VALID, lockTimeout: 5 }) }) });
    expect(e.message).toContain('lockTimeout');
  });

  it('no profile installed: refuses to start', async () => {
    const e = await rejection({ platform: 'darwin', stat: async () => Promise.reject(enoent()), exec: async () => ({ code: 0, stdout: '' }) });
    expect(e.message).toContain(POLICY_LOCATIONS.darwin);
  });

  it('an unreadable plist is refused with a clear message', async () => {
    const e = await rejection({ platform: 'darwin', stat: rootOwned, exec: async () => ({ code: 1, stdout: '' }) });
    expect(e.message).toContain('not a readable property list');
  });
});

describe('Linux /etc/clinic-ehr/policy.json', () => {
  const linux = (json: unknown, st = rootOwned): PolicyReaderDeps => ({
    platform: 'linux',
    stat: st,
    readFile: async (f) => {
      if (f !== POLICY_LOCATIONS.linux) throw enoent();
      return typeof json === 'string' ? json : JSON.stringify(json);
    },
  });

  it('reads and validates the root-owned file', async () => {
    const eff = await loadPolicy(linux(VALID));
    expect(eff.policy.lockTimeoutMinutes).toBe(10);
    expect(Object.isFrozen(eff.policy)).toBe(true);
  });

  it('refuses a policy file a non-root user could have written', async () => {
    const byUser = await rejection(linux(VALID, async () => ({ uid: 1000, mode: 0o100644 })));
    expect(byUser.message).toMatch(/owned by root/);
    const worldWritable = await rejection(linux(VALID, async () => ({ uid: 0, mode: 0o100666 })));
    expect(worldWritable.message).toMatch(/writable only by root/);
  });

  it('refuses broken JSON', async () => {
    const e = await rejection(linux('{"serverUrl": '));
    expect(e.message).toContain('not valid JSON');
  });

  it('lists every invalid field in one message, and the app stops', async () => {
    const e = await rejection(
      linux({
        serverUrl: 'http://ehr.clinic.example',
        serverCertFingerprint: 'abc',
        lockTimeoutMinutes: 16,
        breakGlassReasons: ['BECAUSE'],
        colour: 'blue',
      }),
    );
    expect(e.code).toBe(ErrorCode.INVALID);
    for (const field of ['serverUrl', 'serverCertFingerprint', 'lockTimeoutMinutes', 'breakGlassReasons', 'colour']) {
      expect(e.message).toContain(field);
    }
    expect(e.message).toContain(POLICY_LOCATIONS.linux);
    expect(e.detail?.issues).toBe(5);
  });

  it.each([15, 16, 60])('lock timeout %i: accepted only up to 15 minutes', async (minutes) => {
    const deps = linux({ ...VALID, lockTimeoutMinutes: minutes });
    if (minutes <= 15) expect((await loadPolicy(deps)).policy.lockTimeoutMinutes).toBe(minutes);
    else expect((await rejection(deps)).message).toMatch(/lockTimeoutMinutes/);
  });
});

describe('development policy override', () => {
  const devDeps = (allowDevOverride: boolean): PolicyReaderDeps => ({
    platform: 'linux',
    env: { [DEV_POLICY_ENV]: '/tmp/dev-policy.json' },
    allowDevOverride,
    stat: async () => Promise.reject(enoent()),
    readFile: async (f) => {
      if (f === '/tmp/dev-policy.json') return JSON.stringify(VALID);
      throw enoent();
    },
  });

  it('is honoured in an unpackaged development build', async () => {
    expect((await loadPolicy(devDeps(true))).source).toBe('/tmp/dev-policy.json');
  });

  it('is ignored by a packaged app: an environment variable cannot replace IT policy', async () => {
    expect(await readMachinePolicy(devDeps(false))).toBeNull();
  });
});

describe('default (real) file access', () => {
  it('reads a development policy file from disk with the built-in reader', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ehr-policy-'));
    try {
      const file = path.join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify(VALID));
      const eff = await loadPolicy({ platform: 'linux', allowDevOverride: true, env: { [DEV_POLICY_ENV]: file } });
      expect(eff.source).toBe(file);
      expect(eff.policy.lockTimeoutMinutes).toBe(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('precedence: user settings can only tighten policy', () => {
  const raw = { source: 'test', values: VALID };

  it('a shorter lock timeout from the user applies', () => {
    const eff = resolveEffectivePolicy(raw, 'x', { lockTimeoutMinutes: 5 });
    expect(eff.policy.lockTimeoutMinutes).toBe(5);
    expect(eff.ignoredUserSettings).toEqual([]);
  });

  it('a longer lock timeout, or an out-of-range one, is ignored and reported', () => {
    for (const v of [12, 10, 30, 0, -1, 2.5, '3']) {
      const eff = resolveEffectivePolicy(raw, 'x', { lockTimeoutMinutes: v });
      expect(eff.policy.lockTimeoutMinutes, String(v)).toBe(10);
      expect(eff.ignoredUserSettings).toEqual(['lockTimeoutMinutes']);
    }
  });

  it('settings that are not tightenable never override policy', () => {
    const { policy, ignored } = applyUserSettings(resolveEffectivePolicy(raw, 'x').policy, {
      serverUrl: 'https://attacker.example',
      serverCertFingerprint: '00'.repeat(32),
      breakGlassMinutes: 240,
      breakGlassReasons: ['ETREAT', 'BTG', 'TREAT'],
      offlineLoginDays: 2,
    });
    expect(policy.serverUrl).toBe(VALID.serverUrl);
    expect(policy.serverCertFingerprint).toBe('ab'.repeat(32));
    expect(policy.breakGlassMinutes).toBe(60);
    expect(policy.breakGlassReasons).toEqual(['ETREAT', 'BTG']);
    expect(policy.offlineLoginDays).toBe(2); // shorter offline window: stricter, so applied
    expect(ignored.sort()).toEqual(['breakGlassMinutes', 'breakGlassReasons', 'serverCertFingerprint', 'serverUrl']);
  });

  it('garbage settings change nothing', () => {
    for (const s of [null, undefined, 'x', [1], 42]) {
      expect(resolveEffectivePolicy(raw, 'x', s).policy.lockTimeoutMinutes).toBe(10);
    }
  });
});
