import type { LoadResult } from '../generator/recording.ts';

/** A load run's result as text: the accounting, latencies, the generator's own lateness, outcomes. */
export function formatResult(result: LoadResult): string {
  const lines = [
    `target ${result.target}: ${result.sent} sent = ${result.ok} ok + ${result.failed} failed + ${result.dropped} dropped in ${(result.durationMs / 1000).toFixed(2)} s`,
    `latency from schedule  p50 ${result.latency.p50Ms} ms  p95 ${result.latency.p95Ms} ms  p99 ${result.latency.p99Ms} ms  max ${result.latency.maxMs} ms  mean ${result.latency.meanMs} ms`,
    `latency from send      p50 ${result.serviceLatency.p50Ms} ms  p99 ${result.serviceLatency.p99Ms} ms`,
    `generator lateness     p50 ${result.lateness.p50Ms} ms  p99 ${result.lateness.p99Ms} ms  max ${result.lateness.maxMs} ms (scheduled → written)`,
    `  of which its own     p50 ${result.pacing.p50Ms} ms  p99 ${result.pacing.p99Ms} ms (scheduled → handed to the pool; the rest waited for a connection)`,
    ...(result.bursts
      ? [
          `bursts                 ${result.bursts.count} of ${result.bursts.size}: left in p50 ${result.bursts.spreadP50Ms} ms, max ${result.bursts.spreadMaxMs} ms (first → last hand-over); first p99 ${result.bursts.startLatenessP99Ms} ms late`,
        ]
      : []),
    'outcomes:',
    ...Object.entries(result.outcomes)
      .sort(([, a], [, b]) => b - a)
      .map(([label, count]) => `  ${String(count).padStart(7)}  ${label}`),
    ...result.warnings.map((warning) => `warning: ${warning}`),
  ];
  return `${lines.join('\n')}\n`;
}
