/** The event path in detail: publish, queue, DLQ, and per worker. */
import { dashboard, workerInstance } from '../panels.ts';

const byInstance = '{instance=~"$instance"}';

export const eventsDetail = dashboard(
  'cascade-events',
  'cascade-lab: event path detail',
  'Producer, queue, workers (per replica) and the dead-letter queue.',
  [
    {
      title: 'Published events per second by outcome',
      description:
        'accepted (202, in Redis), duplicate (id already queued), dropped (429 queue_full), unavailable (503, Redis away).',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (outcome) (rate(producer_events_total[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Time to answer POST /events: p99 by outcome',
      description: 'Accepted means Redis has the job; a slow Redis shows here first.',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.99, sum by (le, outcome) (rate(producer_publish_duration_seconds_bucket[$__rate_interval])))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Main queue by state',
      description:
        'waiting, active, delayed (backing off before a retry), completed (kept, capped), failed (on its way to the DLQ).',
      unit: 'short',
      queries: [
        {
          expr: 'max by (state) (worker_queue_jobs{queue="main"})',
          legend: '{{state}}',
        },
      ],
    },
    {
      title: 'Queue depth against the producer’s bound',
      description:
        'The depth the backpressure check uses and the bound at which POST /events answers 429.',
      unit: 'short',
      queries: [
        { expr: 'max(producer_queue_depth_estimate)', legend: 'depth (estimate)' },
        { expr: 'max(producer_queue_max_depth)', legend: 'bound' },
      ],
    },
    {
      title: 'Dead-letter queue: size and jobs dead-lettered per second',
      description:
        'Jobs that used up their retries; kept until redriven or purged (cascade-lab dlq).',
      unit: 'short',
      rightAxis: { legend: 'dead-lettered/s', unit: 'reqps' },
      queries: [
        { expr: 'events:dlq_size:max', legend: 'size' },
        {
          expr: 'sum(rate(worker_jobs_total{outcome="dead_lettered"}[$__rate_interval]))',
          legend: 'dead-lettered/s',
        },
      ],
    },
    {
      title: 'Age of the oldest waiting job',
      description: 'How far behind the workers are; 0 when nothing waits.',
      unit: 's',
      queries: [{ expr: 'max(worker_oldest_waiting_age_seconds)', legend: 'oldest' }],
    },
    {
      title: 'Job outcomes per second, per worker',
      description: 'completed, failed_attempt (retried later or dead-lettered), dead_lettered.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (instance, outcome) (rate(worker_jobs_total${byInstance}[$__rate_interval]))`,
          legend: '{{instance}} {{outcome}}',
        },
      ],
    },
    {
      title: 'Jobs in progress, per worker',
      description: 'At most the worker’s concurrency.',
      unit: 'short',
      queries: [
        {
          expr: `sum by (instance) (worker_active_jobs${byInstance})`,
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'Downstream calls per second by result, per worker',
      description: 'One call per processing attempt.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (instance, result) (rate(worker_attempts_total${byInstance}[$__rate_interval]))`,
          legend: '{{instance}} {{result}}',
        },
      ],
    },
    {
      title: 'Retries scheduled per second, per worker',
      description: 'Failed attempts BullMQ will run again after the capped, jittered backoff.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (instance) (rate(worker_retries_total${byInstance}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
    },
    {
      title: 'End to end vs one processing attempt: p99',
      description:
        'End to end includes waiting in the queue and backoff; processing is one downstream call.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(worker_end_to_end_duration_seconds_bucket${byInstance}[$__rate_interval])))`,
          legend: 'end to end',
        },
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(worker_processing_duration_seconds_bucket${byInstance}[$__rate_interval])))`,
          legend: 'processing',
        },
      ],
    },
    {
      title: 'Stalled jobs recovered per minute, per worker',
      description:
        'Jobs whose worker died or froze, put back to wait by another worker (at-least-once: the call may repeat).',
      unit: 'short',
      queries: [
        {
          expr: `60 * sum by (instance) (rate(worker_stalled_jobs_total${byInstance}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
    },
  ],
  {
    templating: { list: [workerInstance] },
  },
);
