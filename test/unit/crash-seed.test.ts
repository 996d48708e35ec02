/** The crash tests' kill points replay from EHR_CRASH_SEED (test/helpers/crash-seed.ts). */
import { describe, expect, it } from 'vitest';
import { crashRandom, crashSeed } from '../helpers/crash-seed';

describe('crash-test seed', () => {
  it('takes EHR_CRASH_SEED as given and refuses anything that is not a 32-bit unsigned integer', () => {
    expect(crashSeed({ EHR_CRASH_SEED: '0' })).toBe(0);
    expect(crashSeed({ EHR_CRASH_SEED: '4294967295' })).toBe(4294967295);
    for (const bad of ['-1', '4294967296', '12abc', '1.5', ' 7']) expect(() => crashSeed({ EHR_CRASH_SEED: bad })).toThrow(/EHR_CRASH_SEED/);
  });

  it('draws a fresh seed without it, so runs explore different kill points', () => {
    const seeds = new Set(Array.from({ length: 8 }, () => crashSeed({})));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('the same seed replays the same kill points, and records what it drew', () => {
    process.env.EHR_CRASH_SEED = '123456789';
    try {
      const a = crashRandom('a');
      const b = crashRandom('b');
      const first = [a.next(), a.next(), a.next()];
      expect([b.next(), b.next(), b.next()]).toEqual(first);
      expect(a.seed).toBe(123456789);
      expect(a.drawn).toEqual(first);
      expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    } finally {
      delete process.env.EHR_CRASH_SEED;
    }
  });
});
