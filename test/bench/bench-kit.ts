/** Small shared helpers for benchmark suites (see run.ts). */
import { performance } from 'node:perf_hooks';

export interface BenchResult {
  /** The figures the issue names, as top-level keys of bench/results/<suite>.json. */
  figures: Record<string, number | string>;
  /** Human-readable targets beside each figure, e.g. { open_ms: '<= 50' }. */
  targets?: Record<string, string>;
  /** Anything else worth keeping (per-variant timings, sizes). */
  details?: Record<string, unknown>;
  notes?: string[];
}
export type BenchSuite = () => Promise<BenchResult>;

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export const median = (samples: number[]): number => percentile(samples, 50);

/** Milliseconds taken by fn (sync or async). */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
