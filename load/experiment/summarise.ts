import type { LoadResult } from '../generator.ts';
import { quantileBetween, type Scrape } from '../prom-text.ts';
import type { QueueCounts } from '../queue-counts.ts';
import { round } from '../stats.ts';
import type { ServiceName } from '../stack.ts';
import { recoveryTime } from './recovery.ts';
import type {
  EventsRunSummary,
  RpcRunSummary,
  RunSummary,
  SystemSample,
  Window,
} from './result.ts';

/** Everything one run observed: the generator's result, the services' counters before and after, the samples. */
export interface RunObservations {
  name: string;
  target: 'rpc' | 'events';
  load: LoadResult;
  before: Record<ServiceName, Scrape>;
  after: Record<ServiceName, Scrape>;
  /** events: the producer's queue counts before and after (Redis' own accounting). */
  queueBefore: QueueCounts | null;
  queueAfter: QueueCounts | null;
  samples: SystemSample[];
  faultWindows: Window[];
  /** From the first scheduled request until the last answer (events: until the queue drained). */
  durationMs: number;
  /** What the runner itself noticed (e.g. a queue that did not drain). */
  warnings: string[];
}

/** Above this, a service's event-loop stall is a warning: the machine shaped the run. */
export const loopLagWarningMs = 100;

const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000));

/** The figures both targets report, from the observations. */
function common(o: RunObservations) {
  const maxLoopLagMs = round(Math.max(0, ...o.samples.map((sample) => sample.loopLagMs ?? 0)), 1);
  const warnings = [
    ...o.load.warnings,
    ...o.warnings,
    ...(maxLoopLagMs > loopLagWarningMs
      ? [
          `a service's event loop stalled for up to ${maxLoopLagMs} ms (CPU contention on this machine): timeouts and breaker decisions in this run were shaped by it, not only by the policy`,
        ]
      : []),
  ];
  return {
    name: o.name,
    sent: o.load.sent,
    dropped: o.load.dropped,
    durationMs: o.durationMs,
    outcomes: o.load.outcomes,
    warnings,
    series: o.load.series,
    samples: o.samples,
    faultWindows: o.faultWindows,
    maxLoadFactor: round(Math.max(...o.samples.map((sample) => sample.loadFactor ?? 0))),
    maxLoopLagMs,
    downstreamCalls: delta(o, 'downstream', 'downstream_requests_total'),
    recoveryMs: recoveryTime(o.load.series, o.faultWindows),
  };
}

function delta(
  o: RunObservations,
  service: ServiceName,
  name: string,
  labels: Record<string, string> = {},
): number {
  return o.after[service].sum(name, labels) - o.before[service].sum(name, labels);
}

function summariseRpc(o: RunObservations): RpcRunSummary {
  const attempts = delta(o, 'gateway', 'gateway_downstream_attempts_total');
  const { latency } = o.load;
  return {
    ...common(o),
    target: 'rpc',
    ok: o.load.ok,
    failed: o.load.failed,
    retries: delta(o, 'gateway', 'gateway_retries_total'),
    timeouts: delta(o, 'gateway', 'gateway_timeouts_total'),
    cbOpen: delta(o, 'gateway', 'gateway_requests_total', { outcome: 'circuit_open' }),
    attempts,
    amplification: round(attempts / Math.max(1, o.load.sent)),
    goodputRps: round(o.load.ok / (o.load.durationMs / 1000)),
    p50Ms: latency.p50Ms,
    p95Ms: latency.p95Ms,
    p99Ms: latency.p99Ms,
    meanMs: latency.meanMs,
  };
}

/** Accounting from Redis itself (what the queues hold), not from the worker's counters. */
function summariseEvents(o: RunObservations): EventsRunSummary {
  const fromQueue = (field: keyof QueueCounts) =>
    (o.queueAfter?.[field] ?? 0) - (o.queueBefore?.[field] ?? 0);
  const completed = fromQueue('completed');
  const dlq = fromQueue('deadLettered');
  const base = common(o);
  const metricCompleted = delta(o, 'worker', 'worker_jobs_total', { outcome: 'completed' });
  const metricDlq = delta(o, 'worker', 'worker_jobs_total', { outcome: 'dead_lettered' });
  if (metricCompleted !== completed || metricDlq !== dlq) {
    base.warnings.push(
      `the worker's counters (completed ${metricCompleted}, dead-lettered ${metricDlq}) disagree with Redis (completed ${completed}, dead-lettered ${dlq}); the table uses Redis`,
    );
  }
  const attempts = delta(o, 'worker', 'worker_attempts_total');
  const e2eCount = delta(o, 'worker', 'worker_end_to_end_duration_seconds_count');
  const quantile = (histogram: string, q: number) =>
    ms(quantileBetween(o.before.worker, o.after.worker, histogram, q));
  const e2e = (q: number) => quantile('worker_end_to_end_duration_seconds', q);
  return {
    ...base,
    target: 'events',
    ok: completed,
    failed: o.load.failed + dlq,
    accepted: o.load.ok,
    lost: o.load.ok - completed - dlq,
    dlq,
    retries: delta(o, 'worker', 'worker_retries_total'),
    timeouts: delta(o, 'worker', 'worker_attempts_total', { result: 'timeout' }),
    attempts,
    amplification: round(attempts / Math.max(1, o.load.sent)),
    goodputRps: round(completed / (o.durationMs / 1000)),
    p50Ms: e2e(0.5),
    p95Ms: e2e(0.95),
    p99Ms: e2e(0.99),
    meanMs:
      e2eCount === 0
        ? null
        : round((delta(o, 'worker', 'worker_end_to_end_duration_seconds_sum') / e2eCount) * 1000),
    processingP50Ms: quantile('worker_processing_duration_seconds', 0.5),
    processingP99Ms: quantile('worker_processing_duration_seconds', 0.99),
    maxQueueDepth: Math.max(0, ...o.samples.map((sample) => sample.queueDepth ?? 0)),
  };
}

/** Pure: one run's observations → its summary. */
export function summariseRun(observations: RunObservations): RunSummary {
  return observations.target === 'rpc' ? summariseRpc(observations) : summariseEvents(observations);
}
