import { createRng } from '../../services/shared/rng.ts';
import { differenceInterval, directionOf, type Interval } from './intervals.ts';
import type { RunSummary, ThresholdResult } from './result.ts';
import {
  operators,
  parseThreshold,
  type Threshold,
  type ThresholdMetric,
} from '../scenario/thresholds.ts';

/**
 * Where each figure a threshold can name (scenario/thresholds.ts) is read from a run's summary;
 * `null` where the run's target has no such figure (a threshold on it fails).
 */
const metrics = {
  ok: (run) => run.ok,
  failed: (run) => run.failed,
  dropped: (run) => run.dropped,
  retries: (run) => run.retries,
  timeouts: (run) => run.timeouts,
  cb_open: (run) => (run.target === 'rpc' ? run.cbOpen : null),
  dlq: (run) => (run.target === 'events' ? run.dlq : null),
  lost: (run) => (run.target === 'events' ? run.lost : null),
  p50_ms: (run) => run.p50Ms,
  p95_ms: (run) => run.p95Ms,
  p99_ms: (run) => run.p99Ms,
  mean_ms: (run) => run.meanMs,
  attempts: (run) => run.attempts,
  dup_effects: (run) => run.duplicateEffects,
  wasted_work: (run) => run.wastedWork,
  conflicts: (run) => run.conflicts,
  max_ms: (run) => run.maxMs,
  amplification: (run) => run.amplification,
  goodput_rps: (run) => run.goodputRps,
  duration_s: (run) => run.durationMs / 1000,
  // Stable is a recovery in 0; any other verdict has no time, so a threshold on it fails.
  recovery_ms: ({ recovery }) =>
    recovery.verdict === 'stable'
      ? 0
      : recovery.verdict === 'recovered'
        ? recovery.recoveryMs
        : null,
} satisfies Record<ThresholdMetric, (run: RunSummary) => number | null>;

const valuesOf = (run: RunSummary, metric: ThresholdMetric) =>
  (run.repeats ?? [run])
    .map((repeat) => metrics[metric](repeat))
    .filter((value): value is number => value !== null);

/**
 * `a.m > b.m` passes only when the difference of the medians is significant at 95 % in
 * that direction (its interval lies above 0; below 0 for `<`); `==` passes when no
 * difference is detectable (the interval holds 0). Below 5 repeats there is no test: it fails.
 */
function compareTwoRuns(
  a: RunSummary,
  b: RunSummary,
  threshold: Threshold & { other: object },
  seed: number,
): { value: number | null; passed: boolean; interval?: Interval } {
  const [av, bv] = [valuesOf(a, threshold.metric), valuesOf(b, threshold.other.metric)];
  if (av.length === 0 || bv.length === 0) return { value: null, passed: false };
  const result = differenceInterval(av, bv, createRng(seed));
  const direction = directionOf(result);
  const wanted = {
    '>': 'above 0',
    '>=': 'above 0',
    '<': 'below 0',
    '<=': 'below 0',
    '==': 'holds 0',
  }[threshold.operator];
  const interval = result.method === 'none' ? {} : { interval: result.interval };
  return { value: result.difference, passed: direction === wanted, ...interval };
}

/** Evaluates each expression against the summaries (medians, with repeats); a missing run or value fails. */
export function evaluateThresholds(
  expressions: string[],
  runs: RunSummary[],
  seed = 1,
): ThresholdResult[] {
  return expressions.map((expression) => {
    const threshold = parseThreshold(expression);
    const run = runs.find((candidate) => candidate.name === threshold?.run);
    if (!threshold || !run) return { expression, value: null, passed: false };
    if (threshold.other) {
      const other = runs.find((candidate) => candidate.name === threshold.other.run);
      if (!other) return { expression, value: null, passed: false };
      return { expression, ...compareTwoRuns(run, other, threshold, seed) };
    }
    const value = metrics[threshold.metric](run);
    if (value === null) return { expression, value, passed: false };
    return { expression, value, passed: operators[threshold.operator](value, threshold.limit) };
  });
}
