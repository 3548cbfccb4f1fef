import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { boundByLabel, hostOverheadHistogram, latencyBucketsSeconds } from '../shared/metrics.ts';
import { TimeInState } from '../shared/time-in-state.ts';
import { attemptResults } from '../shared/downstream-work.ts';
import type { BreakerState, PolicyEvents } from './call.ts';
import { type GatewayErrorKind, gatewayErrorKinds } from './errors.ts';

export type RequestOutcome = 'ok' | GatewayErrorKind;
const outcomes: RequestOutcome[] = [
  'ok',
  ...(Object.keys(gatewayErrorKinds) as GatewayErrorKind[]),
];
const breakerStates: BreakerState[] = ['closed', 'half_open', 'open'];
const breakerStateValue: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export interface GatewayGauges {
  bulkheadOccupancy(): { inUse: number; queued: number };
  throttleProbability(): number;
  concurrencyLimit(): number;
  retryTokens(): number;
}

export interface GatewayMetrics extends PolicyEvents {
  request(outcome: RequestOutcome, seconds: number): void;
  inflight: Gauge;
}

/**
 * Instrumentation switched off: the same calls, doing nothing. Only the benchmark of
 * metrics' cost uses it (bench/targets/gateway.ts); `/metrics` then has process metrics only.
 */
export function noGatewayMetrics(): GatewayMetrics {
  const nothing = () => undefined;
  return {
    inflight: new Gauge({ name: 'gateway_inflight_requests', help: 'unused', registers: [] }),
    request: nothing,
    attempt: nothing,
    retry: nothing,
    retryDenied: nothing,
    timeout: nothing,
    breakerTransition: nothing,
    breakerFastFail: nothing,
    bulkheadRejected: nothing,
    throttled: nothing,
  };
}

export function createGatewayMetrics(
  registry: Registry,
  gauges: () => GatewayGauges,
  clock: Clock = monotonicClock,
): GatewayMetrics {
  const registers = [registry];
  const breakerOpen = new TimeInState(clock);
  new Counter({
    name: 'gateway_breaker_open_seconds_total',
    help: 'Time the breaker spent open (failing fast), kept exactly, not sampled.',
    registers,
    collect: breakerOpen.collector(),
  });
  const requests = new Counter({
    name: 'gateway_requests_total',
    help: 'POST /rpc requests by final outcome: ok or the error code the client got.',
    labelNames: ['outcome'],
    registers,
  });
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'End-to-end time of POST /rpc, all attempts and backoff included, by outcome.',
    labelNames: ['outcome'],
    buckets: latencyBucketsSeconds,
    registers,
  });
  const inflight = new Gauge({
    name: 'gateway_inflight_requests',
    help: 'POST /rpc requests in progress.',
    registers,
  });
  const attempts = new Counter({
    name: 'gateway_downstream_attempts_total',
    help: 'Calls actually sent to downstream, by result: ok, downstream_error (5xx), downstream_rejected (4xx), connection_error, timeout.',
    labelNames: ['result'],
    registers,
  });
  const attemptDuration = new Histogram({
    name: 'gateway_downstream_attempt_duration_seconds',
    help: 'Time of one downstream call, by result.',
    labelNames: ['result'],
    buckets: latencyBucketsSeconds,
    registers,
  });
  const retries = new Counter({
    name: 'gateway_retries_total',
    help: 'Retries scheduled (each one a further downstream attempt).',
    registers,
  });
  const retriesDenied = new Counter({
    name: 'gateway_retries_denied_total',
    help: 'Retries the policy wanted but did not make: budget (retry budget spent), circuit_open, or overloaded (the downstream said not now).',
    labelNames: ['reason'],
    registers,
  });
  const timeouts = new Counter({
    name: 'gateway_timeouts_total',
    help: 'Attempts aborted by the per-attempt timeout.',
    registers,
  });
  const breakerState = new Gauge({
    name: 'gateway_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    registers,
  });
  const breakerTransitions = new Counter({
    name: 'gateway_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['to'],
    registers,
  });
  const fastFails = new Counter({
    name: 'gateway_breaker_fast_fails_total',
    help: 'Attempts rejected by the open breaker without calling downstream.',
    registers,
  });
  new Gauge({
    name: 'gateway_bulkhead_in_use',
    help: 'Bulkhead slots held by attempts in flight.',
    registers,
    collect() {
      this.set(gauges().bulkheadOccupancy().inUse);
    },
  });
  new Gauge({
    name: 'gateway_bulkhead_queued',
    help: 'Attempts waiting for a bulkhead slot.',
    registers,
    collect() {
      this.set(gauges().bulkheadOccupancy().queued);
    },
  });
  const bulkheadRejected = new Counter({
    name: 'gateway_bulkhead_rejected_total',
    help: 'Attempts rejected because every bulkhead slot and queue place was taken.',
    registers,
  });
  const throttled = new Counter({
    name: 'gateway_throttled_total',
    help: 'Attempts rejected locally by adaptive throttling.',
    registers,
  });
  new Gauge({
    name: 'gateway_throttle_reject_probability',
    help: 'Adaptive throttling rejection probability now: max(0, (requests − K·accepts) / (requests + 1)).',
    registers,
    collect() {
      this.set(gauges().throttleProbability());
    },
  });
  new Gauge({
    name: 'gateway_retry_tokens',
    help: 'Tokens in the retry token buckets (retryTokens), summed over the client instances; 0 when off.',
    registers,
    collect() {
      this.set(gauges().retryTokens());
    },
  });
  new Gauge({
    name: 'gateway_concurrency_limit',
    help: 'The adaptive concurrency limit now (attempts allowed in flight, learnt from latency); 0 when off.',
    registers,
    collect() {
      this.set(gauges().concurrencyLimit());
    },
  });

  for (const outcome of outcomes) requests.inc({ outcome }, 0);
  for (const result of attemptResults) attempts.inc({ result }, 0);
  // Children bound to each label value once: prom-client builds a closure per unbound call.
  const byOutcome = boundByLabel(outcomes, (outcome) => ({
    count: requests.labels({ outcome }),
    duration: duration.labels({ outcome }),
  }));
  const byResult = boundByLabel(attemptResults, (result) => ({
    count: attempts.labels({ result }),
    duration: attemptDuration.labels({ result }),
  }));
  const overhead = hostOverheadHistogram('gateway', registry);
  for (const reason of ['budget', 'tokens', 'circuit_open', 'overloaded'])
    retriesDenied.inc({ reason }, 0);
  for (const to of breakerStates) breakerTransitions.inc({ to }, 0);
  breakerState.set(0);

  return {
    inflight,
    request(outcome, seconds) {
      const child = byOutcome[outcome];
      child.count.inc();
      child.duration.observe(seconds);
    },
    attempt(result, seconds, serviceSeconds) {
      const child = byResult[result];
      child.count.inc();
      child.duration.observe(seconds);
      overhead(seconds, serviceSeconds);
    },
    retry: () => retries.inc(),
    retryDenied: (reason) => retriesDenied.inc({ reason }),
    timeout: () => timeouts.inc(),
    breakerTransition(to) {
      breakerOpen.set(to === 'open');
      breakerState.set(breakerStateValue[to]);
      breakerTransitions.inc({ to });
    },
    breakerFastFail: () => fastFails.inc(),
    bulkheadRejected: () => bulkheadRejected.inc(),
    throttled: () => throttled.inc(),
  };
}
