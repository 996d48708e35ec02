/**
 * Seeded randomness for the crash tests (where to kill a child process). Each test draws its kill
 * points from mulberry32 (src-shared/prng.ts) with a seed that is printed when the test fails, and
 * that EHR_CRASH_SEED sets to replay the same sequence of kill points:
 *
 *   EHR_CRASH_SEED=123456789 scripts/keyring-session.sh scripts/postgres-session.sh npx vitest run test/vault/rekey.test.ts
 *
 * The kill points are fractions of a measured window or delays in ms, so a replay lands at the same
 * moments of the work, up to the machine's timing: close enough to find a bad kill point again.
 */
import { randomInt } from 'node:crypto';
import { onTestFailed } from 'vitest';
import { mulberry32 } from '../../src-shared/prng';

export const CRASH_SEED_ENV = 'EHR_CRASH_SEED';

/** The seed from EHR_CRASH_SEED (a 32-bit unsigned integer), or a fresh one. */
export function crashSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env[CRASH_SEED_ENV];
  if (given === undefined || given === '') return randomInt(0, 2 ** 32);
  if (!/^\d+$/.test(given) || Number(given) >= 2 ** 32) throw new Error(`${CRASH_SEED_ENV} must be an integer from 0 to 4294967295, got ${JSON.stringify(given)}`);
  return Number(given);
}

export interface CrashRandom {
  seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** What was drawn so far, for the failure report. */
  drawn: number[];
}

/**
 * Call inside the test: the seed (and the kill points drawn) go to stderr if the test fails, with
 * the line to replay it.
 */
export function crashRandom(label: string): CrashRandom {
  const seed = crashSeed();
  const rand = mulberry32(seed);
  const drawn: number[] = [];
  onTestFailed(() => {
    console.error(`[${label}] crash-test seed ${seed} (kill points drawn: ${drawn.map((d) => d.toFixed(4)).join(', ')}); replay with ${CRASH_SEED_ENV}=${seed}`);
  });
  return {
    seed,
    drawn,
    next() {
      const v = rand();
      drawn.push(v);
      return v;
    },
  };
}
