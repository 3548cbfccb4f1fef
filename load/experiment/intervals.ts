import { median, quantile, sampleWithReplacement } from 'simple-statistics';
import type { Rng } from '../../services/shared/rng.ts';

/** Below this many repeats an interval is the min–max of the repeats, and says so. */
export const bootstrapMinRepeats = 5;
const resamples = 2000;

export type IntervalMethod = 'bootstrap 95 %' | 'min–max' | 'none';
export type Interval = [low: number, high: number];

/**
 * A 95 % interval of `statistic` over `values`: the bootstrap percentile interval
 * (2 000 resamples from a seeded RNG) from 5 values, the min–max below that.
 */
export function interval(
  values: number[],
  rng: Rng,
  statistic: (sample: number[]) => number = median,
): { interval: Interval; method: IntervalMethod } {
  if (values.length === 0) return { interval: [Number.NaN, Number.NaN], method: 'none' };
  if (values.length < bootstrapMinRepeats)
    return { interval: [Math.min(...values), Math.max(...values)], method: 'min–max' };
  const estimates = Array.from({ length: resamples }, () =>
    statistic(sampleWithReplacement(values, values.length, rng)),
  );
  return {
    interval: [quantile(estimates, 0.025), quantile(estimates, 0.975)],
    method: 'bootstrap 95 %',
  };
}

/**
 * The interval of median(a) − median(b): independent bootstrap resamples of each from 5
 * repeats; below that the min–max of the repeat-by-repeat differences (runs are
 * interleaved, so repeat i of both ran side by side), which describes the spread but is
 * no test (see `directionOf`).
 */
export interface DifferenceResult {
  difference: number;
  interval: Interval;
  method: IntervalMethod;
}

export function differenceInterval(a: number[], b: number[], rng: Rng): DifferenceResult {
  const difference = median(a) - median(b);
  const n = Math.min(a.length, b.length);
  if (n < 2) return { difference, interval: [difference, difference], method: 'none' };
  if (n < bootstrapMinRepeats) {
    const paired = Array.from({ length: n }, (_, i) => a[i]! - b[i]!);
    return { difference, interval: [Math.min(...paired), Math.max(...paired)], method: 'min–max' };
  }
  const estimates = Array.from(
    { length: resamples },
    () =>
      median(sampleWithReplacement(a, a.length, rng)) -
      median(sampleWithReplacement(b, b.length, rng)),
  );
  return {
    difference,
    interval: [quantile(estimates, 0.025), quantile(estimates, 0.975)],
    method: 'bootstrap 95 %',
  };
}

export type Direction = 'above 0' | 'below 0' | 'holds 0' | 'too few repeats';

/**
 * Where a difference's interval lies. Only a bootstrap interval (5 repeats or more) is a
 * test at 95 %: with 2, 3 or 4 repeats the paired differences all share a sign by chance
 * 50, 25 or 12.5 % of the time, so a min–max range is never called significant.
 */
export function directionOf({ interval: [low, high], method }: DifferenceResult): Direction {
  if (method !== 'bootstrap 95 %') return 'too few repeats';
  return low > 0 ? 'above 0' : high < 0 ? 'below 0' : 'holds 0';
}
