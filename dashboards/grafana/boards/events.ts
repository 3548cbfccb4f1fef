/** The event path in detail: publish, queue, DLQ, the topic's subscribers side by side, and per worker. */
import { dashboard, subscriberVariable, workerInstance } from '../panels.ts';

const bySubscriber = 'subscriber=~"$subscriber"';
const byInstance = `{${bySubscriber}, instance=~"$instance"}`;

export const eventsDetail = dashboard(
  'cascade-events',
  'cascade-lab: event path detail',
  'Producer, queue, each subscriber of the topic side by side, workers (per replica) and the dead-letter queues.',
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
      title: 'Main queues by state',
      description:
        'waiting, active, delayed (backing off before a retry), completed (kept, capped), failed (on its way to the DLQ); summed over the subscribers chosen.',
      unit: 'short',
      queries: [
        {
          expr: `sum by (state) (max by (subscriber, state) (worker_queue_jobs{queue="main", ${bySubscriber}}))`,
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
      title: 'Jobs finished per second, per subscriber',
      description:
        'Each subscriber gets every event: one that falls behind or dead-letters does not slow the others.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (subscriber, outcome) (rate(worker_jobs_total{${bySubscriber}, outcome=~"completed|dead_lettered"}[$__rate_interval]))`,
          legend: '{{subscriber}} {{outcome}}',
        },
      ],
    },
    {
      title: 'End to end p99, per subscriber',
      description:
        'From publish to completion, queueing and backoff included, for each subscriber.',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.99, sum by (le, subscriber) (rate(worker_end_to_end_duration_seconds_bucket{${bySubscriber}}[$__rate_interval])))`,
          legend: '{{subscriber}}',
        },
      ],
    },
    {
      title: 'Queue depth, per subscriber',
      description:
        'Waiting, active and delayed jobs in each subscriber’s own queue; the producer’s bound waits on the fullest.',
      unit: 'short',
      queries: [{ expr: `subscriber:queue_depth:max{${bySubscriber}}`, legend: '{{subscriber}}' }],
    },
    {
      title: 'Dead-letter queue size, per subscriber',
      description:
        'Each subscriber has its own DLQ: cascade-lab dlq list --subscriber NAME, redrive --subscriber NAME.',
      unit: 'short',
      queries: [{ expr: `subscriber:dlq_size:max{${bySubscriber}}`, legend: '{{subscriber}}' }],
    },
    {
      title: 'Downstream calls per second by result, per subscriber',
      description:
        'One call per processing attempt; a fault aimed at one caller (worker/<subscriber>) shows in its row only.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (subscriber, result) (rate(worker_attempts_total{${bySubscriber}}[$__rate_interval]))`,
          legend: '{{subscriber}} {{result}}',
        },
      ],
    },
    {
      title: 'Effects the downstream applied twice, per caller',
      description:
        'Calls whose Idempotency-Key had already had its effect: retries after a timeout, redeliveries after a crash. 0 with an idempotent receiver.',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (caller) (rate(downstream_duplicate_effects_total[$__rate_interval]))',
          legend: '{{caller}}',
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
          expr: `sum by (subscriber, instance, outcome) (rate(worker_jobs_total${byInstance}[$__rate_interval]))`,
          legend: '{{subscriber}} {{instance}} {{outcome}}',
        },
      ],
    },
    {
      title: 'Jobs in progress, per worker',
      description: 'At most the worker’s concurrency.',
      unit: 'short',
      queries: [
        {
          expr: `sum by (subscriber, instance) (worker_active_jobs${byInstance})`,
          legend: '{{subscriber}} {{instance}}',
        },
      ],
    },
    {
      title: 'Downstream calls per second by result, per worker',
      description: 'One call per processing attempt.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (subscriber, instance, result) (rate(worker_attempts_total${byInstance}[$__rate_interval]))`,
          legend: '{{subscriber}} {{instance}} {{result}}',
        },
      ],
    },
    {
      title: 'Retries scheduled per second, per worker',
      description: 'Failed attempts BullMQ will run again after the capped, jittered backoff.',
      unit: 'reqps',
      queries: [
        {
          expr: `sum by (subscriber, instance) (rate(worker_retries_total${byInstance}[$__rate_interval]))`,
          legend: '{{subscriber}} {{instance}}',
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
          expr: `60 * sum by (subscriber, instance) (rate(worker_stalled_jobs_total${byInstance}[$__rate_interval]))`,
          legend: '{{subscriber}} {{instance}}',
        },
      ],
    },
  ],
  {
    templating: { list: [subscriberVariable, workerInstance] },
  },
);
