import { median } from 'simple-statistics';
import { type Bucket } from '../generator/series.ts';
import type { RunSummary, Window } from '../experiment/result.ts';
import type { VerdictRule } from '../scenario/sweep-spec.ts';

/**
 * What a run did with its trigger (a load spike or a fault):
 * - `stable`: goodput never fell below the threshold;
 * - `recovered`: it fell, and was back (and held) `recoveryMs` after the trigger ended;
 * - `metastable`: it was not back for good by the end of the load: the trigger was over,
 *   the offered load was what it had been before, and the system stayed down;
 * - `overloaded`: it was below the threshold before the trigger: the load alone is too much;
 * - `no trigger`: nothing to judge (no trigger, no fault, or an events run, whose series is
 *   of publishing: the queue absorbs overload, and lost work shows in `lost`).
 */
export type VerdictKind = 'stable' | 'recovered' | 'metastable' | 'overloaded' | 'no trigger';

export interface RepeatVerdict {
  verdict: VerdictKind;
  /** recovered: ms from the trigger's end until goodput was back for good (model time). */
  recoveryMs: number | null;
  /** The lowest share of answers ok in any window, and before the trigger. */
  lowestRatio: number | null;
  ratioBefore: number | null;
  /** How long the load went on after the trigger ended: what `metastable` is judged over. */
  observedMs: number | null;
}

interface Slice {
  startMs: number;
  endMs: number;
  /** Answers ok ÷ answers; 0 when requests were sent and nothing came back; null when idle. */
  ratio: number | null;
}

const share = (buckets: Bucket[]): number | null => {
  const ok = buckets.reduce((sum, bucket) => sum + bucket.ok, 0);
  const answered = buckets.reduce(
    (sum, bucket) => sum + bucket.ok + bucket.failed + bucket.dropped,
    0,
  );
  if (answered > 0) return ok / answered;
  return buckets.some((bucket) => bucket.sent > 0) ? 0 : null;
};

/** Windows of `windowMs` that slide by one bucket, within the load (up to its last arrival's bucket). */
function slide(series: Bucket[], windowMs: number): Slice[] {
  const lastSent = series.findLastIndex((bucket) => bucket.sent > 0);
  if (lastSent < 0) return [];
  const bucketMs = series.length > 1 ? series[1]!.startMs - series[0]!.startMs : 100;
  const width = Math.max(1, Math.round(windowMs / bucketMs));
  const within = series.slice(0, lastSent + 1);
  const slices: Slice[] = [];
  for (let i = 0; i + width <= within.length; i += 1)
    slices.push({
      startMs: within[i]!.startMs,
      endMs: within[i]!.startMs + width * bucketMs,
      ratio: share(within.slice(i, i + width)),
    });
  return slices;
}

/** One repeat's verdict from its series (model time) and its trigger and fault windows. */
export function repeatVerdict(
  run: Pick<RunSummary, 'target' | 'series' | 'faultWindows'>,
  rule: VerdictRule,
): RepeatVerdict {
  const none: RepeatVerdict = {
    verdict: 'no trigger',
    recoveryMs: null,
    lowestRatio: null,
    ratioBefore: null,
    observedMs: null,
  };
  const windows: Window[] = run.faultWindows;
  if (run.target !== 'rpc' || windows.length === 0) return none;
  const triggerStart = Math.min(...windows.map((window) => window.startMs));
  const triggerEnd = Math.max(...windows.map((window) => window.endMs));
  const slices = slide(run.series, rule.windowMs);
  const ratios = slices.map((slice) => slice.ratio).filter((r): r is number => r !== null);
  const lowestRatio = ratios.length === 0 ? null : Math.min(...ratios);
  const ratioBefore = share(run.series.filter((bucket) => bucket.startMs < triggerStart));
  const loadEnd = slices.at(-1)?.endMs ?? triggerEnd;
  const judged = { lowestRatio, ratioBefore, observedMs: Math.max(0, loadEnd - triggerEnd) };
  const healthy = (slice: Slice) => slice.ratio === null || slice.ratio >= rule.goodputRatio;
  // Before the trigger, over all of it: one unlucky window at a low rate is not overload.
  if (ratioBefore !== null && ratioBefore < rule.goodputRatio)
    return { ...judged, verdict: 'overloaded', recoveryMs: null };
  if (slices.every(healthy)) return { ...judged, verdict: 'stable', recoveryMs: null };
  const after = slices.filter((slice) => slice.startMs >= triggerEnd);
  const lastStart = loadEnd - rule.windowMs;
  for (const [index, slice] of after.entries()) {
    // A recovery must be seen to hold: one that starts too late to hold is not yet one.
    if (slice.startMs + rule.holdMs > lastStart) break;
    const held = after
      .slice(index)
      .filter((later) => later.startMs <= slice.startMs + rule.holdMs)
      .every(healthy);
    if (held && slice.ratio !== null)
      return { ...judged, verdict: 'recovered', recoveryMs: slice.startMs - triggerEnd };
  }
  return { ...judged, verdict: 'metastable', recoveryMs: null };
}

/** A cell's run over its repeats: the verdict most of them had, and how many had each. */
export interface CellVerdict {
  verdict: VerdictKind;
  /** recovered: the median recovery of the repeats that were not metastable (stable ones as 0). */
  recoveryMs: number | null;
  /** How many repeats had each verdict. */
  counts: Partial<Record<VerdictKind, number>>;
  repeats: RepeatVerdict[];
}

/**
 * `metastable` when more than half the repeats were; `overloaded` likewise; `stable` when
 * more than half were; otherwise `recovered`, in the median time of those that were not
 * metastable or overloaded (a stable repeat recovered in 0), unless none of them came back.
 */
export function cellVerdict(repeats: RepeatVerdict[]): CellVerdict {
  const counts: Partial<Record<VerdictKind, number>> = {};
  for (const repeat of repeats) counts[repeat.verdict] = (counts[repeat.verdict] ?? 0) + 1;
  const most = (kind: VerdictKind) => (counts[kind] ?? 0) * 2 > repeats.length;
  const base = { counts, repeats };
  if (repeats.length === 0 || counts['no trigger'] === repeats.length)
    return { ...base, verdict: 'no trigger', recoveryMs: null };
  for (const kind of ['metastable', 'overloaded', 'stable'] as const)
    if (most(kind)) return { ...base, verdict: kind, recoveryMs: null };
  const times = repeats.flatMap((repeat) =>
    repeat.verdict === 'recovered' ? [repeat.recoveryMs!] : repeat.verdict === 'stable' ? [0] : [],
  );
  // None came back: the more common of the two ways not to (metastable on a tie).
  if (times.length === 0)
    return {
      ...base,
      verdict: (counts.overloaded ?? 0) > (counts.metastable ?? 0) ? 'overloaded' : 'metastable',
      recoveryMs: null,
    };
  return { ...base, verdict: 'recovered', recoveryMs: Math.round(median(times)) };
}

/** The rule in words, for the report and the table's notes. */
export function ruleText(rule: VerdictRule): string {
  const percent = Math.round(rule.goodputRatio * 1000) / 10;
  return (
    `A window of ${rule.windowMs} ms (model time, sliding by 100 ms) is healthy when at least ${percent} % of the answers that came back in it were ok. ` +
    `stable: every window of the load was healthy. recovered in X: from X after the trigger (load spike or last fault) ended, every window was healthy for ${rule.holdMs} ms. ` +
    `metastable: no such recovery before the load ended, with the offered load back where it was (the load goes on at least ${rule.windowMs + rule.holdMs + rule.settleMs} ms after the trigger, so a recovery that starts within ${rule.settleMs} ms is seen). overloaded: under ${percent} % ok before the trigger. ` +
    'A cell takes the verdict most of its repeats had; with no majority, recovered (in the median time of its repeats that were not metastable).'
  );
}
