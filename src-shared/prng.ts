/**
 * A tiny deterministic pseudo-random generator (mulberry32) for synthetic data: the demo seed,
 * benchmarks and tests get the same values on every run and every machine.
 * Never for anything secret — keys, nonces and tokens come from the platform's CSPRNG.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
