import { describe, expect, it } from 'vitest';
import { median, percentile } from '../bench/bench-kit';

describe('bench-kit percentiles', () => {
  it('takes the nearest-rank percentile of unsorted samples', () => {
    const s = [9, 1, 5, 3, 7, 2, 8, 4, 6, 10];
    expect(percentile(s, 95)).toBe(10);
    expect(percentile(s, 90)).toBe(9);
    expect(median(s)).toBe(5);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });
});
