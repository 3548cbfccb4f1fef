/** The home dashboard: the two paths side by side. */
import { breakerStates, dashboard, paths } from '../panels.ts';

export const overview = dashboard(
  'cascade-overview',
  'cascade-lab: RPC vs events',
  'The two paths side by side under the same load: what the caller sees, what the downstream sees, and where the work waits.',
  [
    {
      title: 'Requests per second by path (offered by the generator, received by the service)',
      description:
        'rpc: POST /rpc at the gateway; events: POST /events at the producer (duplicates excluded). "offered" is the load generator while it runs.',
      unit: 'reqps',
      queries: [
        paths('path:requests:rate10s', 'received {{path}}'),
        {
          expr: 'sum by (target) (rate(loadgen_requests_total[$__rate_interval]))',
          legend: 'offered {{target}}',
        },
      ],
    },
    {
      title: 'Goodput: successes per second by path',
      description:
        'rpc: 200 answers; events: jobs completed. Under a burst the event path keeps completing while the RPC path fails fast or times out.',
      unit: 'reqps',
      queries: [paths('path:goodput:rate10s')],
    },
    {
      title: 'Error ratio by path',
      description:
        'rpc: error answers ÷ requests; events: refused at publish (429, 503) + dead-lettered ÷ published.',
      unit: 'percentunit',
      queries: [paths('path:error_ratio:rate10s')],
    },
    {
      title: 'Latency p50 and p99: gateway end to end vs event end to end',
      description:
        'rpc: all attempts and backoff at the gateway; events: from the producer accepting the event to its completion, queueing included.',
      unit: 's',
      queries: [
        paths('path:latency_seconds:p50_10s', 'p50 {{path}}'),
        paths('path:latency_seconds:p99_10s', 'p99 {{path}}'),
      ],
    },
    {
      title: 'Retry amplification: downstream calls per request',
      description:
        'Calls sent to the downstream ÷ requests (rpc) or ÷ finished jobs (events). Above 2 (red) retries are multiplying the load: a retry storm.',
      unit: 'suffix:×',
      threshold: 2,
      queries: [paths('path:retry_amplification:rate10s')],
    },
    {
      title: 'Gateway circuit breaker state',
      description:
        'closed: calls go through; open: calls fail fast without reaching the downstream; half-open: one probe decides.',
      unit: 'none',
      kind: 'state-timeline',
      states: breakerStates,
      queries: [{ expr: 'max(gateway_breaker_state)', legend: 'breaker' }],
    },
    {
      title: 'Gateway bulkhead: slots in use and attempts waiting',
      description:
        'The bulkhead caps concurrent downstream calls; attempts beyond it wait in its queue (and add to RPC latency).',
      unit: 'short',
      queries: [
        { expr: 'sum(gateway_bulkhead_in_use)', legend: 'in use' },
        { expr: 'sum(gateway_bulkhead_queued)', legend: 'waiting' },
      ],
    },
    {
      title: 'Event queue depth and dead-letter queue size',
      description:
        'Jobs waiting + active + delayed in the main queue, and jobs parked in the DLQ (kept, never lost; redrive with cascade-lab dlq).',
      unit: 'short',
      queries: [
        { expr: 'events:queue_depth:max', legend: 'queue depth' },
        { expr: 'events:dlq_size:max', legend: 'dead-lettered' },
      ],
    },
    {
      title: 'Downstream: requests in flight and load factor',
      description:
        'Load factor = in flight ÷ a tenth of a second of capacity; above 1 the downstream slows down and fails more.',
      unit: 'short',
      rightAxis: { legend: 'load factor', unit: 'none' },
      queries: [
        { expr: 'sum(downstream_inflight_requests)', legend: 'in flight' },
        { expr: 'max(downstream_load_factor)', legend: 'load factor' },
      ],
    },
    {
      title: 'Active downstream faults by kind',
      description:
        'Timed faults injected through PUT /admin/faults (or a scenario timeline): error, latency, hang, reset.',
      unit: 'none',
      kind: 'state-timeline',
      states: [
        { value: 0, text: 'none', color: 'transparent' },
        { value: 1, text: 'active', color: 'red' },
      ],
      queries: [
        { expr: 'clamp_max(max by (kind) (downstream_active_faults), 1)', legend: '{{kind}}' },
      ],
    },
  ],
);
