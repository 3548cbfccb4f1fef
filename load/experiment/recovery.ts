import { median } from 'simple-statistics';
import type { Bucket } from '../generator/series.ts';
import type { VerdictRule } from '../scenario/sweep-spec.ts';

/**
 * What a run did with its trigger (a load spike or its faults), the one verdict the table,
 * the report, thresholds and sweeps all use:
 * - `stable`: every window of the load was healthy;
 * - `recovered`: it fell, and was healthy again `recoveryMs` after the trigger ended, and
 *   stayed so for the rule's hold (or until the load ended, when that came first);
 * - `did not recover`: no such recovery before the load ended: the trigger was over and the
 *   system stayed down (metastable, when the offered load was back to what it had been);
 * - `fault still active`: the trigger had not ended when the load did: nothing to recover;
 * - `overloaded`: it was unhealthy before the trigger: the load alone was too much;
 * - `no trigger`: nothing to judge (no fault, no spike).
 */
export type RecoveryKind =
  'stable' | 'recovered' | 'did not recover' | 'fault still active' | 'overloaded' | 'no trigger';

export interface Recovery {
  verdict: RecoveryKind;
  /** recovered: ms from the trigger's end until the series was healthy for good. */
  recoveryMs: number | null;
  /** The lowest share of answers ok in any window, and the share before the trigger. */
  lowestRatio: number | null;
  ratioBefore: number | null;
  /** How long the load went on after the trigger ended: what `did not recover` is judged over. */
  observedMs: number | null;
  /** Over repeats: how many had each verdict. */
  counts?: Partial<Record<RecoveryKind, number>>;
}

export const noTrigger: Recovery = {
  verdict: 'no trigger',
  recoveryMs: null,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
};

interface Slice {
  startMs: number;
  /** Answers ok ÷ answers; 0 when requests were sent and nothing came back; null when idle. */
  ratio: number | null;
}

/**
 * The share of answers ok. A bucket where requests were sent and none came back counts as
 * 0, not as idle: a system that stops answering has not recovered (the old rule read those
 * empty buckets as healthy, and called a collapse a recovery in 0 ms).
 */
const share = (buckets: Bucket[]): number | null => {
  const ok = buckets.reduce((sum, bucket) => sum + bucket.ok, 0);
  const answered = buckets.reduce(
    (sum, bucket) => sum + bucket.ok + bucket.failed + bucket.dropped,
    0,
  );
  if (answered > 0) return ok / answered;
  return buckets.some((bucket) => bucket.sent > 0) ? 0 : null;
};

/** Windows of `windowMs` sliding by one bucket, within the load (up to its last arrival's bucket). */
function slide(series: Bucket[], windowMs: number): Slice[] {
  const lastSent = series.findLastIndex((bucket) => bucket.sent > 0);
  if (lastSent < 0) return [];
  const bucketMs = series.length > 1 ? series[1]!.startMs - series[0]!.startMs : 100;
  const width = Math.max(1, Math.round(windowMs / bucketMs));
  const within = series.slice(0, lastSent + 1);
  const slices: Slice[] = [];
  for (let i = 0; i + width <= within.length; i += 1)
    slices.push({ startMs: within[i]!.startMs, ratio: share(within.slice(i, i + width)) });
  return slices;
}

/**
 * The verdict of one run from its series and its trigger and fault windows, all in one
 * time (wall time, the rule scaled with the run; or model time).
 */
export function judgeRecovery(
  series: Bucket[],
  windows: Array<{ startMs: number; endMs: number }>,
  rule: VerdictRule,
): Recovery {
  if (windows.length === 0) return noTrigger;
  const triggerStart = Math.min(...windows.map((window) => window.startMs));
  const triggerEnd = Math.max(...windows.map((window) => window.endMs));
  const slices = slide(series, rule.windowMs);
  const ratios = slices.map((slice) => slice.ratio).filter((r): r is number => r !== null);
  const lowestRatio = ratios.length === 0 ? null : Math.min(...ratios);
  const ratioBefore = share(series.filter((bucket) => bucket.startMs < triggerStart));
  const lastStart = slices.at(-1)?.startMs ?? triggerEnd;
  const loadEnd = lastStart + rule.windowMs;
  const judged = { lowestRatio, ratioBefore, observedMs: Math.max(0, loadEnd - triggerEnd) };
  const healthy = (slice: Slice) => slice.ratio === null || slice.ratio >= rule.goodputRatio;
  if (triggerEnd >= loadEnd) return { ...judged, verdict: 'fault still active', recoveryMs: null };
  // Before the trigger, over all of it: one unlucky window at a low rate is not overload.
  if (ratioBefore !== null && ratioBefore < rule.goodputRatio)
    return { ...judged, verdict: 'overloaded', recoveryMs: null };
  if (slices.every(healthy)) return { ...judged, verdict: 'stable', recoveryMs: null };
  const after = slices.filter((slice) => slice.startMs >= triggerEnd);
  for (const [index, slice] of after.entries()) {
    if (slice.ratio === null || !healthy(slice)) continue;
    // Held for the rule's hold, or to the end of the load if that comes first.
    const held = after
      .slice(index)
      .filter((later) => later.startMs <= slice.startMs + rule.holdMs)
      .every(healthy);
    if (held) return { ...judged, verdict: 'recovered', recoveryMs: slice.startMs - triggerEnd };
  }
  return { ...judged, verdict: 'did not recover', recoveryMs: null };
}

/**
 * One run's repeats as one verdict: `did not recover`, `overloaded`, `fault still active`
 * or `stable` when more than half the repeats had it; otherwise `recovered`, in the median
 * time of the repeats that came back (a stable one in 0), unless none did.
 */
export function combineRecoveries(repeats: Recovery[]): Recovery {
  const counts: Partial<Record<RecoveryKind, number>> = {};
  for (const repeat of repeats) counts[repeat.verdict] = (counts[repeat.verdict] ?? 0) + 1;
  const most = (kind: RecoveryKind) => (counts[kind] ?? 0) * 2 > repeats.length;
  const lows = repeats.flatMap((r) => (r.lowestRatio === null ? [] : [r.lowestRatio]));
  const befores = repeats.flatMap((r) => (r.ratioBefore === null ? [] : [r.ratioBefore]));
  const observed = repeats.flatMap((r) => (r.observedMs === null ? [] : [r.observedMs]));
  const base = {
    counts,
    lowestRatio: lows.length ? median(lows) : null,
    ratioBefore: befores.length ? median(befores) : null,
    observedMs: observed.length ? median(observed) : null,
  };
  if (repeats.length === 0 || counts['no trigger'] === repeats.length)
    return { ...noTrigger, counts };
  for (const kind of ['did not recover', 'overloaded', 'fault still active', 'stable'] as const)
    if (most(kind)) return { ...base, verdict: kind, recoveryMs: null };
  const times = repeats.flatMap((repeat) =>
    repeat.verdict === 'recovered' ? [repeat.recoveryMs!] : repeat.verdict === 'stable' ? [0] : [],
  );
  // None came back: the more common of the two ways not to (did not recover on a tie).
  if (times.length === 0)
    return {
      ...base,
      verdict:
        (counts.overloaded ?? 0) > (counts['did not recover'] ?? 0)
          ? 'overloaded'
          : 'did not recover',
      recoveryMs: null,
    };
  return { ...base, verdict: 'recovered', recoveryMs: Math.round(median(times)) };
}

/** The recovery in model time: its durations ÷ k. */
export const recoveryInModelTime = (recovery: Recovery, k: number): Recovery => ({
  ...recovery,
  recoveryMs: recovery.recoveryMs === null ? null : Math.round(recovery.recoveryMs / k),
  observedMs: recovery.observedMs === null ? null : Math.round(recovery.observedMs / k),
});

/** A recovery as the table and the report say it: `stable`, `600 ms`, `did not recover`, `-`. */
export const recoveryText = (recovery: Recovery): string =>
  recovery.verdict === 'recovered'
    ? `${recovery.recoveryMs} ms`
    : recovery.verdict === 'no trigger'
      ? '-'
      : recovery.verdict;

/** The rule in words, for the reports. */
export function ruleText(rule: VerdictRule): string {
  const percent = Math.round(rule.goodputRatio * 1000) / 10;
  return (
    `Recovery: a window of ${rule.windowMs} ms (model time, sliding by the series' buckets) is healthy when at least ${percent} % of the answers in it were ok (requests sent and none answered: 0 %). ` +
    `stable: every window of the load was healthy. recovered in X: from X after the trigger (load spike or last fault) ended, every window was healthy for ${rule.holdMs} ms, or until the load ended. ` +
    `did not recover: no such recovery before the load ended. fault still active: the trigger outlasted the load. overloaded: under ${percent} % ok before the trigger. ` +
    'Over repeats: the verdict most of them had; with no majority, recovered in the median time of those that came back.'
  );
}
