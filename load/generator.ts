import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Pool } from 'undici';
import {
  type Answer,
  type Bucket,
  BucketSeries,
  classify,
  type LoadTarget,
} from './load-series.ts';
import type { LoadMetrics } from './metrics.ts';
import { type LatencySummary, LatencyRecorder } from './stats.ts';

export type { Bucket, LoadTarget } from './load-series.ts';

export interface LoadOptions {
  target: LoadTarget;
  /** The gateway's origin for `rpc`, the producer's for `events`. */
  baseUrl: string;
  /** When each request is due, ms from the start, ascending (see schedule.ts). */
  offsetsMs: number[];
  /** Requests in flight at most; arrivals beyond it are counted as dropped, not delayed. @defaultValue 10000 */
  maxOutstanding?: number;
  /** @defaultValue 250 */
  bucketMs?: number;
  /** @defaultValue 'req' */
  idPrefix?: string;
  /** @defaultValue 512 */
  connections?: number;
  onProgress?: (progress: LoadProgress) => void;
  /** Counts every answer and the requests in flight, for a `/metrics` endpoint. */
  metrics?: LoadMetrics;
  /** @defaultValue 1000 */
  progressEveryMs?: number;
}

export interface LoadProgress {
  elapsedMs: number;
  scheduled: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  outstanding: number;
}

export interface LoadResult {
  target: LoadTarget;
  durationMs: number;
  /** Every scheduled arrival: sent = ok + failed + dropped. */
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  /** By answer: `ok`, `<status> <error code>`, `connection_error`, `dropped: generator cap`. */
  outcomes: Record<string, number>;
  /** From the scheduled time: what a user waiting since then saw (no coordinated omission). */
  latency: LatencySummary;
  /** From the actual send. */
  serviceLatency: LatencySummary;
  /** How late the generator sent requests against the schedule. */
  lateness: LatencySummary;
  series: Bucket[];
  warnings: string[];
}

/**
 * Fires an open-loop schedule: each request leaves at its scheduled time whatever
 * earlier ones are doing, so a slow system cannot slow the arrivals down (no
 * coordinated omission). Latency is recorded from the scheduled time and from the
 * actual send; the generator's own lateness is reported, with a warning when it,
 * not the system under test, is the bottleneck.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { target, offsetsMs } = options;
  const maxOutstanding = options.maxOutstanding ?? 10_000;
  const idPrefix = options.idPrefix ?? 'req';
  const path = target === 'rpc' ? '/rpc' : '/events';
  const pool = new Pool(options.baseUrl, {
    connections: options.connections ?? 512,
    pipelining: 1,
  });
  const latency = new LatencyRecorder();
  const serviceLatency = new LatencyRecorder();
  const lateness = new LatencyRecorder();
  const series = new BucketSeries(options.bucketMs ?? 250);
  const outcomes: Record<string, number> = {};
  const totals = { ok: 0, failed: 0, dropped: 0 };
  let outstanding = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const count = (answer: Answer, completedAtMs: number, latencyMs: number | null) => {
    outcomes[answer.label] = (outcomes[answer.label] ?? 0) + 1;
    totals[answer.kind] += 1;
    series.at(completedAtMs)[answer.kind] += 1;
    options.metrics?.answered(target, answer.kind, latencyMs === null ? null : latencyMs / 1000);
  };

  const start = performance.now();
  const now = () => performance.now() - start;

  const fire = (index: number, scheduledMs: number) => {
    sent += 1;
    series.at(scheduledMs).sent += 1;
    if (outstanding >= maxOutstanding) {
      count({ kind: 'dropped', label: 'dropped: generator cap' }, scheduledMs, null);
      return;
    }
    outstanding += 1;
    options.metrics?.outstanding(target, outstanding);
    const sentAtMs = now();
    lateness.record(sentAtMs - scheduledMs);
    const request = (async () => {
      let answer: Answer;
      try {
        const response = await pool.request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: `${idPrefix}-${index}` }),
        });
        answer = await classify(target, response.statusCode, () => response.body.json());
        await response.body.dump().catch(() => undefined);
      } catch {
        answer = { kind: 'failed', label: 'connection_error' };
      }
      const doneMs = now();
      latency.record(doneMs - scheduledMs);
      serviceLatency.record(doneMs - sentAtMs);
      series.at(doneMs).latency.record(doneMs - scheduledMs);
      count(answer, doneMs, doneMs - scheduledMs);
      outstanding -= 1;
      options.metrics?.outstanding(target, outstanding);
    })();
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  };

  const progressEveryMs = options.progressEveryMs ?? 1000;
  let nextProgressMs = progressEveryMs;
  let reportedFinished = -1;
  const report = () => {
    reportedFinished = totals.ok + totals.failed + totals.dropped;
    options.onProgress?.({
      elapsedMs: now(),
      scheduled: offsetsMs.length,
      sent,
      ...totals,
      outstanding,
    });
  };

  let next = 0;
  while (next < offsetsMs.length) {
    const elapsed = now();
    while (next < offsetsMs.length && offsetsMs[next]! <= elapsed) {
      fire(next, offsetsMs[next]!);
      next += 1;
    }
    if (elapsed >= nextProgressMs) {
      report();
      nextProgressMs += progressEveryMs;
    }
    if (next >= offsetsMs.length) break;
    const waitMs = offsetsMs[next]! - now();
    // Timers are only good to ~1 ms: sleep most of the wait, then yield to the loop until due.
    if (waitMs > 2) await new Promise((resolve) => setTimeout(resolve, waitMs - 1.5));
    else await yieldToLoop();
  }
  // Keep reporting while the last answers come in: a slow tail is when a user wants to see it.
  while (inFlight.size > 0) {
    const tick = new Promise((resolve) => setTimeout(resolve, Math.max(0, nextProgressMs - now())));
    await Promise.race([Promise.all([...inFlight]), tick]);
    if (now() >= nextProgressMs) {
      report();
      nextProgressMs += progressEveryMs;
    }
  }
  const durationMs = now();
  if (reportedFinished !== totals.ok + totals.failed + totals.dropped) report();
  await pool.close();

  const warnings: string[] = [];
  const late = lateness.summary();
  if ((late.p99Ms ?? 0) > 5) {
    warnings.push(
      `the generator sent requests late (p99 ${late.p99Ms} ms behind schedule): it, not the system under test, may be the bottleneck`,
    );
  }
  if ((outcomes['dropped: generator cap'] ?? 0) > 0) {
    warnings.push(
      `${outcomes['dropped: generator cap']} arrivals were dropped by the generator's cap of ${maxOutstanding} outstanding requests`,
    );
  }
  return {
    target,
    durationMs: Math.round(durationMs),
    sent,
    ...totals,
    outcomes,
    latency: latency.summary(),
    serviceLatency: serviceLatency.summary(),
    lateness: late,
    series: series.toJSON(),
    warnings,
  };
}
