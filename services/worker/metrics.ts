import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { hostOverheadHistogram, latencyBucketsSeconds } from '../shared/metrics.ts';
import { attemptResults } from '../shared/downstream-work.ts';
import type { ProcessorEvents } from './processor.ts';

const jobOutcomes = ['completed', 'failed_attempt', 'dead_lettered'] as const;
export const queueStates = ['waiting', 'active', 'delayed', 'completed', 'failed'] as const;
export type QueueState = (typeof queueStates)[number];

/** Read at scrape time; undefined when Redis could not be asked. */
export interface QueueSnapshot {
  main: Record<QueueState, number>;
  deadLettered: number;
  oldestWaitingAgeSeconds: number;
}

const endToEndBuckets = [...latencyBucketsSeconds, 30, 60, 120, 300];

export function createWorkerMetrics(
  registry: Registry,
  snapshot: () => Promise<QueueSnapshot | undefined>,
) {
  const registers = [registry];
  const jobs = new Counter({
    name: 'worker_jobs_total',
    help: 'Job outcomes: completed, failed_attempt (an attempt that failed; it may be retried), dead_lettered (moved to the DLQ).',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of jobOutcomes) jobs.inc({ outcome }, 0);
  const attempts = new Counter({
    name: 'worker_attempts_total',
    help: 'Calls sent to downstream, by result.',
    labelNames: ['result'],
    registers,
  });
  for (const result of attemptResults) attempts.inc({ result }, 0);
  const retries = new Counter({
    name: 'worker_retries_total',
    help: 'Failed attempts that BullMQ will retry after the backoff.',
    registers,
  });
  const stalled = new Counter({
    name: 'worker_stalled_jobs_total',
    help: 'Jobs found stalled (their worker stopped renewing the lock) and put back to wait.',
    registers,
  });
  const overhead = hostOverheadHistogram('worker', registry);
  const processing = new Histogram({
    name: 'worker_processing_duration_seconds',
    help: 'Time of one attempt (one downstream call), by result.',
    labelNames: ['result'],
    buckets: latencyBucketsSeconds,
    registers,
  });
  const endToEnd = new Histogram({
    name: 'worker_end_to_end_duration_seconds',
    help: 'From the producer accepting the event to its successful processing, retries and queueing included.',
    buckets: endToEndBuckets,
    registers,
  });
  const active = new Gauge({
    name: 'worker_active_jobs',
    help: 'Jobs this worker is processing now.',
    registers,
  });

  const keyLocks = new Counter({
    name: 'worker_key_locks_total',
    help: 'Per-key Redis locks (LOCK_PER_KEY) asked for: acquired, or busy (another worker held the event; retried later).',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of ['acquired', 'busy']) keyLocks.inc({ outcome }, 0);

  // One Redis read per scrape feeds both queue gauges.
  let pending: Promise<QueueSnapshot | undefined> | undefined;
  const read = () =>
    (pending ??= snapshot().finally(() => setImmediate(() => (pending = undefined))));
  new Gauge({
    name: 'worker_queue_jobs',
    help: 'Jobs by queue (main, dlq) and state; dead-lettered jobs are queue="dlq", state="waiting".',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const now = await read();
      if (now === undefined) return;
      for (const state of queueStates) this.set({ queue: 'main', state }, now.main[state]);
      this.set({ queue: 'dlq', state: 'waiting' }, now.deadLettered);
    },
  });
  new Gauge({
    name: 'worker_oldest_waiting_age_seconds',
    help: 'Age of the oldest job waiting in the main queue (0 when none waits).',
    registers,
    async collect() {
      const now = await read();
      if (now !== undefined) this.set(now.oldestWaitingAgeSeconds);
    },
  });

  const events: ProcessorEvents = {
    attempt(result, seconds, serviceSeconds) {
      attempts.inc({ result });
      processing.observe({ result }, seconds);
      overhead(seconds, serviceSeconds);
    },
    completed(endToEndSeconds) {
      jobs.inc({ outcome: 'completed' });
      endToEnd.observe(endToEndSeconds);
    },
    active: (delta) => active.inc(delta),
    keyLock: (outcome) => keyLocks.inc({ outcome }),
  };
  return {
    events,
    failedAttempt: () => jobs.inc({ outcome: 'failed_attempt' }),
    retry: () => retries.inc(),
    deadLettered: (count = 1) => jobs.inc({ outcome: 'dead_lettered' }, count),
    stalled: () => stalled.inc(),
  };
}
