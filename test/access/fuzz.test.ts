/**
 * fast-check fuzzing of every channel's input, as a signed-in physician (the widest clinical role)
 * and as a nurse: the dispatcher never throws, every failure is a typed code with a fixed, PHI-free
 * message (canary PHI and injection strings planted in the input never come back in an error), and
 * nothing is written to the console.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS, channelSchemas, type Channel } from '../../src-shared/api';
import { ErrorCode } from '../../src-shared/errors';
import { CANARY, CANARY_STRINGS, PASSWORD, containsCanary, createHarness, vitals, type Harness } from './harness';

const NASTY = [
  ...CANARY_STRINGS,
  `${CANARY.given} ${CANARY.family}`,
  "' OR 1=1 --",
  "p-own'; DROP TABLE patients; --",
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '\u0000\uffff\ud800',
  'p-own',
  'p-other',
  'obs-p-own',
];

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ minLength: 3000, maxLength: 3000 }),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 5 }),
  fc.constant(vitals('p-own')),
  fc.constant({ ...vitals('p-other'), note: [{ text: CANARY.note }] }),
  fc.object({ maxDepth: 2 }),
);

function keysOf(channel: Channel): string[] {
  const shape = (channelSchemas[channel] as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Mostly the channel's own keys with hostile values, sometimes anything at all. */
function inputFor(channel: Channel): fc.Arbitrary<unknown> {
  const keys = keysOf(channel);
  const shaped = keys.length
    ? fc.record(Object.fromEntries(keys.map((k) => [k, value])), { requiredKeys: [] })
    : fc.constant({});
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: fc.anything() }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...NASTY), value) });
}

const CODES = new Set<string>(Object.values(ErrorCode));
let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

describe.each(['phil', 'nina'])('fuzzing every channel as %s', (username) => {
  it.each(CHANNELS)('%s', async (channel) => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    await h.ok('auth.switchUser', {});
    await h.login(username);
    await fc.assert(
      fc.asyncProperty(inputFor(channel), async (input) => {
        // Logout, switch user and lock are fuzzed too: get back in front before each run.
        const front = h.ws.sessions.front;
        if (front?.state === 'locked') await h.ok('auth.unlock', { password: PASSWORD });
        else if (!front) await h.login(username);
        const r = await h.ws.invoke(channel, input);
        if (r.ok) return;
        expect(CODES.has(r.error.code)).toBe(true);
        expect(containsCanary(r.error)).toBeNull();
        expect(JSON.stringify(r.error)).not.toMatch(/DROP TABLE|<script>|at .*\.ts:\d+|SQLITE_ERROR/);
        expect(Object.keys(r.error).sort()).toEqual(expect.arrayContaining(['code', 'message']));
        expect(r.error).not.toHaveProperty('stack');
      }),
      { numRuns: 40 },
    );
    // Unlock may have been locked out by random passwords: an admin-style reset keeps later runs meaningful.
    for (const s of spies) {
      for (const args of s.mock.calls) expect(containsCanary(args)).toBeNull();
      s.mockRestore();
    }
    h.ws.vault.verifiers.resetFailures(h.ws.sessions.front?.user.userId ?? '');
  });
});

describe('the vault file after fuzzing', () => {
  it('the audit chain still verifies', () => {
    expect(h.ws.vault.audit.verify().ok).toBe(true);
  });
});
