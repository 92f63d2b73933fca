// Summary statistics with simple-statistics.
import { mean, median, quantileSorted, standardDeviation } from 'simple-statistics';
import type { LatencyStats } from './types.js';

/** Median, p90, mean and (population) standard deviation of samples (ms); zeros for no samples. */
export function latencyStats(xs: readonly number[]): LatencyStats {
  if (xs.length === 0) return { median: 0, p90: 0, mean: 0, stddev: 0 };
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    median: round(median(sorted)),
    p90: round(quantileSorted(sorted, 0.9)),
    mean: round(mean(sorted)),
    stddev: round(xs.length > 1 ? standardDeviation(sorted) : 0),
  };
}

/** Round to 6 significant decimals of a millisecond (ns), keeping files short. */
export function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
