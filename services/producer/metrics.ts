import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { latencyBucketsSeconds } from '../shared/metrics.ts';

export const publishOutcomes = [
  'accepted',
  'duplicate',
  'dropped',
  'unavailable',
  'unreplicated',
  'error',
] as const;
export type PublishOutcome = (typeof publishOutcomes)[number];

export function createProducerMetrics(
  registry: Registry,
  depth: () => number,
  maxDepth: () => number,
) {
  const registers = [registry];
  const events = new Counter({
    name: 'producer_events_total',
    help: 'POST /events by outcome: accepted (202, in Redis), duplicate (id already queued), dropped (429 queue_full), unavailable (503: Redis failed), unreplicated (503: queued, but fewer replicas than PUBLISH_WAIT_REPLICAS acknowledged it in time), error (500: a fault of ours, not an outage).',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of publishOutcomes) events.inc({ outcome }, 0);
  const late = new Counter({
    name: 'producer_events_queued_late_total',
    help: 'Events answered 503 queue_unavailable because Redis did not answer within PUBLISH_TIMEOUT_MS, whose jobs were queued after all (the add landed late). An experiment counts them as accepted.',
    registers,
  });
  const duration = new Histogram({
    name: 'producer_publish_duration_seconds',
    help: 'Time to answer POST /events, by outcome.',
    labelNames: ['outcome'],
    buckets: latencyBucketsSeconds,
    registers,
  });
  new Gauge({
    name: 'producer_queue_depth_estimate',
    help: 'The depth the backpressure check uses: waiting + delayed + active, at most DEPTH_CACHE_MS old, plus adds since.',
    registers,
    collect() {
      this.set(depth());
    },
  });
  new Gauge({
    name: 'producer_queue_max_depth',
    help: 'The bound (MAX_DEPTH or the policy) at which POST /events answers 429 queue_full.',
    registers,
    collect() {
      this.set(maxDepth());
    },
  });
  return {
    publish(outcome: PublishOutcome, seconds: number) {
      events.inc({ outcome });
      duration.observe({ outcome }, seconds);
    },
    queuedLate() {
      late.inc();
    },
  };
}
