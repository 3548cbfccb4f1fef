import { round } from '../generator/stats.ts';
import type { RunSummary } from './result.ts';
import { recoveryInModelTime } from './recovery.ts';

/**
 * A summary measured at scale k, read back in model time: durations ÷ k, rates × k,
 * counts unchanged. The services' event-loop stalls stay in wall time: they are the host's.
 */
export function toModelTime<S extends RunSummary>(summary: S, k: number): S {
  if (k === 1) return summary;
  const d = <T extends number | null>(ms: T): T => round(ms === null ? null : ms / k, 2) as T;
  const model: RunSummary = {
    ...summary,
    durationMs: Math.round(summary.durationMs / k),
    goodputRps: round(summary.goodputRps * k),
    p50Ms: d(summary.p50Ms),
    p95Ms: d(summary.p95Ms),
    p99Ms: d(summary.p99Ms),
    meanMs: d(summary.meanMs),
    maxMs: d(summary.maxMs),
    hostOverheadP50Ms: d(summary.hostOverheadP50Ms),
    hostOverheadP99Ms: d(summary.hostOverheadP99Ms),
    latenessP99Ms: d(summary.latenessP99Ms),
    burstSpreadP50Ms: d(summary.burstSpreadP50Ms),
    recovery: recoveryInModelTime(summary.recovery, k),
    series: summary.series.map((bucket) => ({
      ...bucket,
      startMs: d(bucket.startMs),
      p50Ms: d(bucket.p50Ms),
      p99Ms: d(bucket.p99Ms),
    })),
    samples: summary.samples.map((sample) => ({ ...sample, atMs: Math.round(sample.atMs / k) })),
    faultWindows: summary.faultWindows.map((window) => ({
      ...window,
      startMs: d(window.startMs),
      endMs: d(window.endMs),
    })),
  };
  if (model.target === 'rpc' && summary.target === 'rpc')
    model.breakerOpenMs = Math.round(summary.breakerOpenMs / k);
  if (model.target === 'events' && summary.target === 'events') {
    model.processingP50Ms = d(summary.processingP50Ms);
    model.processingP99Ms = d(summary.processingP99Ms);
  }
  return model as S;
}
