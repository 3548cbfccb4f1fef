import { median } from 'simple-statistics';
import { createRng } from '../../services/shared/rng.ts';
import {
  differenceInterval,
  directionOf,
  interval,
  type Interval,
  type IntervalMethod,
} from './intervals.ts';
import type { Comparison, ComparedField, RunSummary } from './result.ts';
import { combineRecoveries } from './recovery.ts';

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
  'conflicts',
  'amplification',
  'goodputRps',
  'durationMs',
  'p50Ms',
  'p95Ms',
  'p99Ms',
  'meanMs',
  'maxMs',
  'maxLoadFactor',
  'loadFactorP50',
  'loadFactorP99',
  'overloadedShare',
  'breakerOpenMs',
  'maxLoopLagMs',
  'hostOverheadP50Ms',
  'hostOverheadP99Ms',
  'hostShare',
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
  combined.recovery = combineRecoveries(repeats.map((repeat) => repeat.recovery));
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
const comparedFields: Record<ComparedField, 'higher' | 'lower'> = {
  goodputRps: 'higher',
  amplification: 'lower',
  p99Ms: 'lower',
  failed: 'lower',
};

/** Every pair of runs with the same target, on goodput, amplification, p99 and failures. */
export function compareRuns(runs: RunSummary[], seed = 1): Comparison[] {
  const rng = createRng(seed);
  const comparisons: Comparison[] = [];
  for (const [i, a] of runs.entries())
    for (const b of runs.slice(i + 1)) {
      if (a.target !== b.target) continue;
      for (const [field, better] of Object.entries(comparedFields) as Array<
        [ComparedField, 'higher' | 'lower']
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
