import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { latencyBucketsSeconds } from '../shared/metrics.ts';
import { TimeInState } from '../shared/time-in-state.ts';
import { type FaultKind, faultKinds } from './faults.ts';

export const downstreamOutcomes = [
  'ok',
  'error',
  'fault_error',
  'fault_hang',
  'fault_reset',
  'replayed',
  'in_progress',
  'conflict',
  'deadline_refused',
  'deadline_dropped',
  'cancelled',
  'shed',
  'forwarded',
  'unreachable',
] as const;
export type DownstreamOutcome = (typeof downstreamOutcomes)[number];

/**
 * `x-cascade-caller` comes from the client, so it is a label only while it looks like a
 * name and until this many callers have one; later ones count as `other`.
 */
export const maxCallerLabels = 16;
const callerName = /^[a-z0-9][a-z0-9/_.-]{0,63}$/;

/** The `caller` label of a call: its `x-cascade-caller`, `unknown` without one, bounded. */
function callerLabels() {
  const seen = new Set<string>();
  return (caller: string | undefined): string => {
    if (caller === undefined) return 'unknown';
    if (seen.has(caller)) return caller;
    if (!callerName.test(caller) || seen.size >= maxCallerLabels) return 'other';
    seen.add(caller);
    return caller;
  };
}

/** Load factors at arrival: dense around the knee at 1, sparse up to a cascade's hundreds. */
const loadFactorBuckets = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000];

export function createDownstreamMetrics(
  registry: Registry,
  activeFaults: () => Record<FaultKind, number>,
  clock: Clock = monotonicClock,
  /** Requests waiting in the worker pool's queue now. */
  queued: () => number = () => 0,
) {
  const overloaded = new TimeInState(clock);
  let current = 0.5;
  let peak = 0.5;
  new Counter({
    name: 'downstream_overloaded_seconds_total',
    help: 'Time spent with a load factor above 1 (degraded), kept exactly, not sampled.',
    registers: [registry],
    collect: overloaded.collector(),
  });
  const arrivalLoad = new Histogram({
    name: 'downstream_arrival_load_factor',
    help: 'The load factor each POST /work met on arrival (itself included).',
    buckets: loadFactorBuckets,
    registers: [registry],
  });
  new Gauge({
    name: 'downstream_load_factor_peak',
    help: 'The highest load factor since the last scrape (then it starts again from the current one).',
    registers: [registry],
    collect() {
      this.set(peak);
      peak = current;
    },
  });
  const requests = new Counter({
    name: 'downstream_requests_total',
    help: 'POST /work requests (in proxy mode, every proxied request) by outcome: ok, error (the failure model), fault_error, fault_hang, fault_reset (timed faults), replayed and in_progress (an idempotent receiver answering a repeated key), conflict (a write that lost to another on a contended key, conflictKeys), deadline_refused and deadline_dropped (a deadline honoured), cancelled (the caller closed the connection), shed; in proxy mode forwarded (the upstream answered) and unreachable (it did not); by caller (x-cascade-caller), and in proxy mode by route (the first path segment) and upstream_status.',
    labelNames: ['outcome', 'caller', 'route', 'upstream_status'],
    registers: [registry],
  });
  for (const outcome of downstreamOutcomes) requests.inc({ outcome }, 0);
  const duration = new Histogram({
    name: 'downstream_request_duration_seconds',
    help: 'Time from arrival to answer (or to the work stopping) of POST /work, by outcome (ok, error, fault_error, deadline_dropped, cancelled).',
    labelNames: ['outcome'],
    buckets: latencyBucketsSeconds,
    registers: [registry],
  });
  const inflight = new Gauge({
    name: 'downstream_inflight_requests',
    help: 'POST /work requests being worked on (hung requests included).',
    registers: [registry],
  });
  const loadFactorGauge = new Gauge({
    name: 'downstream_load_factor',
    help: 'Current load factor: max(0.5, inflight / (capacityRps / 10)); above 1 the model degrades.',
    registers: [registry],
  });
  const duplicateEffects = new Counter({
    name: 'downstream_duplicate_effects_total',
    help: 'Work completed for an Idempotency-Key that had already been completed: a retry or redelivery done twice; by caller (x-cascade-caller).',
    labelNames: ['caller'],
    registers: [registry],
  });
  const wastedWork = new Counter({
    name: 'downstream_wasted_work_total',
    help: 'Work finished for a caller that had already gone (it closed the connection first): done for nobody; by caller.',
    labelNames: ['caller'],
    registers: [registry],
  });
  new Gauge({
    name: 'downstream_queued_requests',
    help: 'Requests waiting for a slot of the worker pool (poolConcurrency > 0); not yet worked on, not in the load factor.',
    registers: [registry],
    collect() {
      this.set(queued());
    },
  });
  new Gauge({
    name: 'downstream_active_faults',
    help: 'Timed faults active now, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const counts = activeFaults();
      for (const kind of faultKinds) this.set({ kind }, counts[kind]);
    },
  });
  const callerLabel = callerLabels();
  /** Callers whose duplicate and wasted counters start at 0 already (once each, not per call). */
  const zeroed = new Set<string>();
  /** Counter children by their label values: prom-client hashes the labels on every unbound call. */
  const children = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(seconds: number): void }>();
  return {
    observe(
      outcome: DownstreamOutcome,
      caller: string | undefined,
      seconds?: number,
      /** Proxy mode: the route label (bounded by the caller of this) and the upstream's status. */
      proxied?: { route: string; upstreamStatus?: number | undefined },
    ) {
      const label = callerLabel(caller);
      const status = proxied ? String(proxied.upstreamStatus ?? 'none') : '';
      const key = proxied
        ? `${outcome}|${label}|${proxied.route}|${status}`
        : `${outcome}|${label}`;
      let child = children.get(key);
      if (!child) {
        child = requests.labels(
          proxied
            ? { outcome, caller: label, route: proxied.route, upstream_status: status }
            : { outcome, caller: label },
        );
        children.set(key, child);
      }
      child.inc();
      // Every caller's duplicates from 0, so a rate sees its first one (and a panel shows 0, not nothing).
      if (!zeroed.has(label)) {
        zeroed.add(label);
        duplicateEffects.inc({ caller: label }, 0);
        wastedWork.inc({ caller: label }, 0);
      }
      if (seconds !== undefined) {
        let timer = timers.get(outcome);
        if (!timer) timers.set(outcome, (timer = duration.labels({ outcome })));
        timer.observe(seconds);
      }
    },
    setLoad(inflightNow: number, factor: number) {
      inflight.set(inflightNow);
      loadFactorGauge.set(factor);
      current = factor;
      peak = Math.max(peak, factor);
      overloaded.set(factor > 1);
    },
    wastedWork(caller: string | undefined) {
      wastedWork.inc({ caller: callerLabel(caller) });
    },
    duplicateEffect(caller: string | undefined) {
      duplicateEffects.inc({ caller: callerLabel(caller) });
    },
    /** At each arrival, the load factor it met. */
    arrival(factor: number) {
      arrivalLoad.observe(factor);
    },
  };
}
