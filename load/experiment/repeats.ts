import { median, quantile, sampleWithReplacement } from 'simple-statistics';
import { createRng, type Rng } from '../../services/shared/rng.ts';
import type { RunSummary } from './result.ts';

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

/** The figures a run's repeats are summarised by: median, and an interval each. */
export const repeatedFields = [
  'ok',
  'failed',
  'dropped',
  'retries',
  'timeouts',
  'attempts',
  'downstreamCalls',
  'duplicateEffects',
  'wastedWork',
  'amplification',
  'goodputRps',
  'durationMs',
  'p50Ms',
  'p95Ms',
  'p99Ms',
  'meanMs',
  'maxLoadFactor',
  'loadFactorP50',
  'loadFactorP99',
  'overloadedShare',
  'breakerOpenMs',
  'maxLoopLagMs',
  'hostOverheadP50Ms',
  'hostOverheadP99Ms',
  'latenessP99Ms',
  'burstSpreadP50Ms',
  'cbOpen',
  'accepted',
  'lost',
  'dlq',
  'processingP50Ms',
  'processingP99Ms',
  'maxQueueDepth',
] as const;

const numbersOf = (repeats: RunSummary[], field: string): number[] =>
  repeats
    .map((repeat) => (repeat as unknown as Record<string, unknown>)[field])
    .filter((value): value is number => typeof value === 'number');

/**
 * One run's repeats as one summary: every figure the median of the repeats, with its
 * interval; the series, samples and outcomes of the repeat nearest the median goodput
 * (for the charts); every repeat kept whole in `repeats`.
 */
export function combineRepeats(repeats: RunSummary[], seed = 1): RunSummary {
  if (repeats.length === 1) return repeats[0]!;
  const rng = createRng(seed);
  const goodput = median(repeats.map((repeat) => repeat.goodputRps));
  const representative = repeats.reduce((best, repeat) =>
    Math.abs(repeat.goodputRps - goodput) < Math.abs(best.goodputRps - goodput) ? repeat : best,
  );
  const combined: Record<string, unknown> = { ...representative };
  const intervals: Record<string, Interval> = {};
  let method: IntervalMethod = 'none';
  for (const field of repeatedFields) {
    const values = numbersOf(repeats, field);
    if (values.length === 0) continue;
    combined[field] = median(values);
    const result = interval(values, rng);
    intervals[field] = result.interval;
    method = result.method;
  }
  const recovered = repeats.filter((repeat) => typeof repeat.recoveryMs === 'number');
  const notRecovered = repeats.filter((repeat) => repeat.recoveryMs === 'did not recover');
  if (recovered.length + notRecovered.length > 0)
    combined.recoveryMs =
      recovered.length > notRecovered.length
        ? median(recovered.map((repeat) => repeat.recoveryMs as number))
        : 'did not recover';
  else if (repeats.some((repeat) => repeat.recoveryMs === 'fault still active'))
    combined.recoveryMs = 'fault still active';
  const shaped = repeats.filter((repeat) => repeat.hostShaped);
  combined.hostShaped = shaped.length * 2 > repeats.length;
  combined.suggestedTimeScale = combined.hostShaped
    ? Math.max(...shaped.map((repeat) => repeat.suggestedTimeScale ?? 0)) || null
    : null;
  combined.warnings = groupWarnings(repeats);
  combined.repeats = repeats;
  combined.intervals = intervals;
  combined.intervalMethod = method;
  return combined as unknown as RunSummary;
}

/** Each kind of warning once (repeats word it alike, with their own figures), with the repeats it came from. */
function groupWarnings(repeats: RunSummary[]): string[] {
  const groups = new Map<string, { text: string; from: number[] }>();
  repeats.forEach((repeat, i) => {
    for (const warning of repeat.warnings) {
      const key = warning.replace(/[0-9.]+/g, '#');
      const group = groups.get(key) ?? { text: warning, from: [] };
      group.from.push(i + 1);
      groups.set(key, group);
    }
  });
  return [...groups.values()].map(({ text, from }) =>
    from.length === 1
      ? `repeat ${from[0]}: ${text}`
      : `${from.length} of ${repeats.length} repeats, e.g. repeat ${from[0]}: ${text}`,
  );
}

/** Which way is better for a compared figure. */
const comparedFields = {
  goodputRps: 'higher',
  amplification: 'lower',
  p99Ms: 'lower',
  failed: 'lower',
} as const;

export interface Comparison {
  a: string;
  b: string;
  field: keyof typeof comparedFields;
  /** median(a) − median(b). */
  difference: number;
  interval: Interval;
  method: IntervalMethod;
  /** For a: better or worse than b when the interval excludes 0; no verdict below 5 repeats. */
  verdict: 'better' | 'worse' | 'no detectable difference' | 'too few repeats';
}

/** Every pair of runs with the same target, on goodput, amplification, p99 and failures. */
export function compareRuns(runs: RunSummary[], seed = 1): Comparison[] {
  const rng = createRng(seed);
  const comparisons: Comparison[] = [];
  for (const [i, a] of runs.entries())
    for (const b of runs.slice(i + 1)) {
      if (a.target !== b.target) continue;
      for (const [field, better] of Object.entries(comparedFields) as Array<
        [keyof typeof comparedFields, 'higher' | 'lower']
      >) {
        const values = (run: RunSummary) => numbersOf(run.repeats ?? [run], field);
        const [av, bv] = [values(a), values(b)];
        if (av.length === 0 || bv.length === 0) continue;
        const result = differenceInterval(av, bv, rng);
        const direction = directionOf(result);
        const verdict =
          direction === 'too few repeats'
            ? direction
            : direction === 'holds 0'
              ? 'no detectable difference'
              : (direction === 'above 0') === (better === 'higher')
                ? 'better'
                : 'worse';
        comparisons.push({ a: a.name, b: b.name, field, ...result, verdict });
      }
    }
  return comparisons;
}
