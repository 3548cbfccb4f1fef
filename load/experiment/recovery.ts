import { type Bucket } from '../generator/series.ts';

export type Recovery = number | null | 'did not recover' | 'fault still active';

/**
 * Time from the end of the last window (fault or load trigger) until the success ratio of
 * 100 ms buckets is back to 90 % of the one before the first window, and stays back for
 * `holdMs` (or until the run ends). A single lucky bucket in a cascade is not a recovery;
 * a window still open when the run ended (at `runEndMs`) leaves nothing to recover from.
 */
export function recoveryTime(
  series: Bucket[],
  windows: Array<{ startMs: number; endMs: number }>,
  holdMs = 1000,
  runEndMs = Number.POSITIVE_INFINITY,
): Recovery {
  if (windows.length === 0) return null;
  const firstStart = Math.min(...windows.map((window) => window.startMs));
  const lastEnd = Math.max(...windows.map((window) => window.endMs));
  if (lastEnd >= runEndMs) return 'fault still active';
  const ratio = (buckets: Bucket[]) => {
    const ok = buckets.reduce((sum, bucket) => sum + bucket.ok, 0);
    const done = buckets.reduce(
      (sum, bucket) => sum + bucket.ok + bucket.failed + bucket.dropped,
      0,
    );
    return done === 0 ? null : ok / done;
  };
  const bucketMs = series.length > 1 ? series[1]!.startMs - series[0]!.startMs : 250;
  const baseline = ratio(series.filter((bucket) => bucket.startMs + bucketMs <= firstStart)) ?? 1;
  const after = series.filter((bucket) => bucket.startMs >= lastEnd);
  const healthy = after.map((bucket) => {
    const now = ratio([bucket]);
    return now === null || now >= 0.9 * baseline;
  });
  for (const [index, bucket] of after.entries()) {
    if (ratio([bucket]) === null || !healthy[index]) continue;
    const held = after.findIndex(
      (later, laterIndex) =>
        laterIndex > index && later.startMs < bucket.startMs + holdMs && !healthy[laterIndex],
    );
    if (held === -1) return Math.max(0, bucket.startMs - lastEnd);
  }
  return 'did not recover';
}
