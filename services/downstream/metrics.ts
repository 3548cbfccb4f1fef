import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBucketsSeconds } from '../shared/metrics.ts';
import { type FaultKind, faultKinds } from './faults.ts';

export const downstreamOutcomes = [
  'ok',
  'error',
  'fault_error',
  'fault_hang',
  'fault_reset',
] as const;
export type DownstreamOutcome = (typeof downstreamOutcomes)[number];

export function createDownstreamMetrics(
  registry: Registry,
  activeFaults: () => Record<FaultKind, number>,
) {
  const requests = new Counter({
    name: 'downstream_requests_total',
    help: 'POST /work requests by outcome: ok, error (the failure model), fault_error, fault_hang, fault_reset (timed faults).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of downstreamOutcomes) requests.inc({ outcome }, 0);
  const duration = new Histogram({
    name: 'downstream_request_duration_seconds',
    help: 'Time from arrival to answer of POST /work, by outcome (ok, error, fault_error).',
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
  return {
    observe(outcome: DownstreamOutcome, seconds?: number) {
      requests.inc({ outcome });
      if (seconds !== undefined) duration.observe({ outcome }, seconds);
    },
    setLoad(inflightNow: number, factor: number) {
      inflight.set(inflightNow);
      loadFactorGauge.set(factor);
    },
  };
}
