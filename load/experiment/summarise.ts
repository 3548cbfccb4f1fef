import { quantileBetween } from '../stack/prom-text.ts';
import type { CountField, QueueCounts } from '../stack/queue-counts.ts';
import { round } from '../generator/stats.ts';
import type { ServiceName } from '../stack/stack.ts';
import { workerCaller } from '../../services/shared/topic.ts';
import { judgeRecovery } from './recovery.ts';
import type { EventsRunSummary, HttpRunSummary, RpcRunSummary, RunSummary } from './result.ts';
import { hostOverhead } from './host-overhead.ts';
import { toModelTime } from './model-time.ts';
import type { RunObservations } from './observations.ts';
import { msFromSeconds } from '../generator/stats.ts';

/** Above this, a service's event-loop stall is a warning: the machine shaped the run. */
export const loopLagWarningMs = 100;

/** The figures both targets report, from the observations. */
function common(o: RunObservations) {
  // A subscriber's row: the downstream's calls and duplicates from its workers only.
  const byCaller: Record<string, string> =
    o.subscriber === undefined ? {} : { caller: workerCaller(o.subscriber) };
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
    maxLoadFactor: round(
      Math.max(
        ...o.samples.map((sample) => Math.max(sample.peakLoadFactor ?? 0, sample.loadFactor ?? 0)),
      ),
    ),
    loadFactorP50: round(
      quantileBetween(
        o.before.downstream,
        o.after.downstream,
        'downstream_arrival_load_factor',
        0.5,
      ),
    ),
    loadFactorP99: round(
      quantileBetween(
        o.before.downstream,
        o.after.downstream,
        'downstream_arrival_load_factor',
        0.99,
      ),
    ),
    overloadedShare:
      o.durationMs > 0
        ? round(
            (delta(o, 'downstream', 'downstream_overloaded_seconds_total') * 1000) / o.durationMs,
            3,
          )
        : null,
    maxLoopLagMs,
    latenessP99Ms: o.load.pacing.p99Ms,
    burstSpreadP50Ms: o.load.bursts?.spreadP50Ms ?? null,
    downstreamCalls: delta(o, 'downstream', 'downstream_requests_total', byCaller),
    duplicateEffects: delta(o, 'downstream', 'downstream_duplicate_effects_total', byCaller),
    wastedWork: delta(o, 'downstream', 'downstream_wasted_work_total', byCaller),
    conflicts: delta(o, 'downstream', 'downstream_requests_total', {
      ...byCaller,
      outcome: 'conflict',
    }),
    ...hostOverhead(o),
    recovery: judgeRecovery(o.load.series, o.faultWindows, o.recoveryRule),
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
    breakerOpenMs: Math.round(delta(o, 'gateway', 'gateway_breaker_open_seconds_total') * 1000),
    attempts,
    amplification: round(attempts / Math.max(1, o.load.sent)),
    goodputRps: round(o.load.ok / (o.load.durationMs / 1000)),
    p50Ms: latency.p50Ms,
    p95Ms: latency.p95Ms,
    p99Ms: latency.p99Ms,
    meanMs: latency.meanMs,
    maxMs: latency.maxMs,
  };
}

/**
 * Accounting from Redis itself (what the queues hold), not from the worker's counters.
 * On a topic, of one subscriber: its queue's counts and its workers' series.
 */
function summariseEvents(o: RunObservations): EventsRunSummary {
  const countsOf = (counts: QueueCounts | null) =>
    o.subscriber === undefined
      ? counts
      : (counts?.subscribers?.find((subscriber) => subscriber.name === o.subscriber) ?? null);
  const fromQueue = (field: CountField) =>
    (countsOf(o.queueAfter)?.[field] ?? 0) - (countsOf(o.queueBefore)?.[field] ?? 0);
  const completed = fromQueue('completed');
  const dlq = fromQueue('deadLettered');
  const base = common(o);
  const mine: Record<string, string> =
    o.subscriber === undefined ? {} : { subscriber: o.subscriber };
  const workerDelta = (name: string, labels: Record<string, string> = {}) =>
    delta(o, 'worker', name, { ...labels, ...mine });
  const metricCompleted = workerDelta('worker_jobs_total', { outcome: 'completed' });
  const metricDlq = workerDelta('worker_jobs_total', { outcome: 'dead_lettered' });
  if (metricCompleted !== completed || metricDlq !== dlq) {
    base.warnings.push(
      `the worker's counters (completed ${metricCompleted}, dead-lettered ${metricDlq}) disagree with Redis (completed ${completed}, dead-lettered ${dlq}); the table uses Redis${o.faultWindows.some((w) => w.kind === 'worker killed') ? ' (a worker was killed: what it finished after its last scrape is not in its counters)' : ''}`,
    );
  }
  // Answered 503 after a timeout, yet queued: accepted after all (not refused at publish).
  const late = delta(o, 'producer', 'producer_events_queued_late_total');
  if (late > 0)
    base.warnings.push(
      `${late} events were answered 503 (Redis did not answer the producer within PUBLISH_TIMEOUT_MS) yet their jobs were queued: they count as accepted, not as failed at publish`,
    );
  const attempts = workerDelta('worker_attempts_total');
  const e2eCount = workerDelta('worker_end_to_end_duration_seconds_count');
  const quantile = (histogram: string, q: number) =>
    msFromSeconds(quantileBetween(o.before.worker, o.after.worker, histogram, q, mine));
  const e2e = (q: number) => quantile('worker_end_to_end_duration_seconds', q);
  return {
    ...base,
    target: 'events',
    ok: completed,
    failed: o.load.failed - late + dlq,
    accepted: o.load.ok + late,
    lost: o.load.ok + late - completed - dlq,
    dlq,
    retries: workerDelta('worker_retries_total'),
    timeouts: workerDelta('worker_attempts_total', { result: 'timeout' }),
    attempts,
    amplification: round(attempts / Math.max(1, o.load.sent)),
    goodputRps: round(completed / (o.durationMs / 1000)),
    p50Ms: e2e(0.5),
    p95Ms: e2e(0.95),
    p99Ms: e2e(0.99),
    meanMs:
      e2eCount === 0
        ? null
        : round((workerDelta('worker_end_to_end_duration_seconds_sum') / e2eCount) * 1000),
    maxMs: null,
    processingP50Ms: quantile('worker_processing_duration_seconds', 0.5),
    processingP99Ms: quantile('worker_processing_duration_seconds', 0.99),
    maxQueueDepth: Math.max(0, ...o.samples.map((sample) => sample.queueDepth ?? 0)),
  };
}

/**
 * Pure: a run straight at another service, from what the load generator saw alone. The
 * figures our services would count (retries, calls, load factor, host share) are null:
 * not measured, rather than zero.
 */
export function summariseDirect(
  o: Pick<RunObservations, 'name' | 'load' | 'durationMs' | 'faultWindows' | 'recoveryRule'> & {
    timeScale: number;
  },
): HttpRunSummary {
  const { latency } = o.load;
  const summary: HttpRunSummary = {
    name: o.name,
    target: 'http',
    sent: o.load.sent,
    ok: o.load.ok,
    failed: o.load.failed,
    dropped: o.load.dropped,
    retries: null,
    timeouts: null,
    attempts: null,
    duplicateEffects: null,
    wastedWork: null,
    conflicts: null,
    downstreamCalls: null,
    amplification: null,
    goodputRps: round(o.load.ok / (o.load.durationMs / 1000)),
    p50Ms: latency.p50Ms,
    p95Ms: latency.p95Ms,
    p99Ms: latency.p99Ms,
    meanMs: latency.meanMs,
    maxMs: latency.maxMs,
    maxLoadFactor: null,
    loadFactorP50: null,
    loadFactorP99: null,
    overloadedShare: null,
    latenessP99Ms: o.load.pacing.p99Ms,
    burstSpreadP50Ms: o.load.bursts?.spreadP50Ms ?? null,
    maxLoopLagMs: null,
    hostOverheadP50Ms: null,
    hostOverheadP99Ms: null,
    hostShare: null,
    hostShaped: false,
    suggestedTimeScale: null,
    recovery: judgeRecovery(o.load.series, o.faultWindows, o.recoveryRule),
    durationMs: o.durationMs,
    outcomes: o.load.outcomes,
    warnings: o.load.warnings,
    series: o.load.series,
    samples: [],
    faultWindows: o.faultWindows,
  };
  return toModelTime(summary, o.timeScale);
}

/** Pure: one run's observations → its summary, in model time. */
export function summariseRun(observations: RunObservations): RunSummary {
  const o = ofSubscriber(observations);
  const summary = o.target === 'rpc' ? summariseRpc(o) : summariseEvents(o);
  return toModelTime(summary, o.timeScale ?? 1);
}

/** A subscriber's samples: its queue's depth, its workers' retries and calls; the rest is shared. */
function ofSubscriber(o: RunObservations): RunObservations {
  const name = o.subscriber;
  if (name === undefined) return o;
  return {
    ...o,
    samples: o.samples.map(({ subscribers, ...sample }) => ({
      ...sample,
      ...(subscribers?.[name] ?? { queueDepth: null, retries: null, attempts: null }),
    })),
  };
}
