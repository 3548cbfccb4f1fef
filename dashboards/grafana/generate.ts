/**
 * The Grafana dashboards, written as typed objects (`@grafana/schema`) and emitted as the
 * JSON files Grafana provisions from `dashboards/grafana/dashboards/`. Run
 * `npm run dashboards` after a change; a test fails when the JSON and this file disagree.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AnnotationQuery,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  MappingType,
  type Panel,
  ThresholdsMode,
  type VariableModel,
} from '@grafana/schema';

/**
 * A Prometheus query: the schema's DataQuery fields plus the datasource's own. A type
 * literal, not an interface, so it also fits a panel's `Record<string, unknown>` targets.
 */
type PromQuery = Pick<DataQuery, 'refId' | 'hide'> & {
  datasource?: DataSourceRef;
  expr: string;
  legendFormat?: string;
  range?: boolean;
};

/** Prometheus annotations keep their formatting fields beside the query. */
interface PromAnnotation extends AnnotationQuery<PromQuery> {
  step: string;
  titleFormat: string;
  tagKeys: string;
  useValueForTime: boolean;
}

/** A query variable; Grafana keeps the query text it shows as `definition`. */
interface QueryVariable extends VariableModel {
  definition: string;
}

/** The provisioned datasource (`provisioning/datasources/prometheus.yml` has the same uid). */
export const datasource: DataSourceRef = { type: 'prometheus', uid: 'cascade-prometheus' };

export interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  kind?: 'timeseries' | 'state-timeline';
  /** Value → text and colour, for state panels. */
  states?: Array<{ value: number; text: string; color: string }>;
  /** A dashed red line from this value up. */
  threshold?: number;
  /** Series (by legend) drawn on a right-hand axis with this unit. */
  rightAxis?: { legend: string; unit: string };
  /** Full width instead of half. */
  wide?: boolean;
}

const HALF = 12;
const HEIGHT = 8;

/** Lays panels out two to a row (a wide one takes the row), ids in order. */
function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  return specs.map((spec, index) => {
    const w = spec.wide ? 24 : HALF;
    if (x + w > 24) {
      x = 0;
      y += HEIGHT;
    }
    const panel = toPanel(spec, index + 1, { x, y, w, h: HEIGHT });
    x += w;
    return panel;
  });
}

function toPanel(spec: PanelSpec, id: number, gridPos: Panel['gridPos']): Panel {
  const kind = spec.kind ?? 'timeseries';
  const overrides = spec.rightAxis
    ? [
        {
          matcher: { id: 'byName', options: spec.rightAxis.legend },
          properties: [
            { id: 'unit', value: spec.rightAxis.unit },
            { id: 'custom.axisPlacement', value: 'right' },
          ],
        },
      ]
    : [];
  return {
    id,
    type: kind,
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos,
    targets: spec.queries.map((query, index): PromQuery => ({
      refId: String.fromCharCode(65 + index),
      datasource,
      expr: query.expr,
      legendFormat: query.legend,
      range: true,
    })),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.states
          ? {
              mappings: [
                {
                  type: MappingType.ValueToText,
                  options: Object.fromEntries(
                    spec.states.map((state) => [
                      String(state.value),
                      { text: state.text, color: state.color },
                    ]),
                  ),
                },
              ],
            }
          : {}),
        ...(spec.threshold !== undefined
          ? {
              thresholds: {
                mode: ThresholdsMode.Absolute,
                steps: [
                  { value: null, color: 'green' },
                  { value: spec.threshold, color: 'red' },
                ],
              },
            }
          : {}),
        custom:
          kind === 'timeseries'
            ? {
                lineWidth: 2,
                fillOpacity: 8,
                spanNulls: false,
                ...(spec.threshold !== undefined ? { thresholdsStyle: { mode: 'dashed' } } : {}),
              }
            : { fillOpacity: 80, lineWidth: 0 },
      },
      overrides,
    },
    options:
      kind === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi', sort: 'desc' },
          }
        : { showValue: 'never', mergeValues: true, rowHeight: 0.8 },
  };
}

/** One annotation per kind while a timed fault is active on the downstream. */
const faultAnnotation: PromAnnotation = {
  name: 'Downstream faults',
  enable: true,
  iconColor: 'red',
  datasource,
  target: { refId: 'Anno', expr: 'max by (kind) (downstream_active_faults) > 0' },
  step: '2s',
  titleFormat: 'fault: {{kind}}',
  tagKeys: 'kind',
  useValueForTime: false,
};

const workerInstance: QueryVariable = {
  name: 'instance',
  label: 'worker',
  type: 'query',
  datasource,
  query: { query: 'label_values(worker_active_jobs, instance)', refId: 'Vars' },
  definition: 'label_values(worker_active_jobs, instance)',
  refresh: 2,
  multi: true,
  includeAll: true,
  allValue: '.*',
  current: { text: 'All', value: '$__all' },
  sort: 1,
};

function dashboard(
  uid: string,
  title: string,
  description: string,
  specs: PanelSpec[],
  extra: Partial<Dashboard> = {},
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['cascade-lab'],
    editable: false,
    graphTooltip: 1,
    refresh: '5s',
    time: { from: 'now-15m', to: 'now' },
    timepicker: { refresh_intervals: ['2s', '5s', '10s', '30s', '1m'] },
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    links: [
      {
        title: 'cascade-lab',
        type: 'dashboards',
        tags: ['cascade-lab'],
        asDropdown: false,
        icon: 'external link',
        includeVars: false,
        keepTime: true,
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    annotations: { list: [faultAnnotation] },
    panels: layout(specs),
    ...extra,
  };
}

const paths = (expr: string, legend = '{{path}}'): Query => ({ expr, legend });

const breakerStates = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'half-open', color: 'orange' },
  { value: 2, text: 'open', color: 'red' },
];

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
          expr: 'sum by (target) (rate(loadgen_requests_total[10s]))',
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

export const rpcDetail = dashboard(
  'cascade-rpc',
  'cascade-lab: RPC path detail',
  'The gateway and its resilience policy, layer by layer: retry, throttle, bulkhead, breaker, timeout; and the downstream behind it.',
  [
    {
      title: 'Gateway requests per second by final outcome',
      description:
        'ok, or the error code the caller got (circuit_open, timeout, bulkhead_full, …).',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (outcome) (rate(gateway_requests_total[10s]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Gateway latency end to end: p50, p90, p99',
      description: 'From request to answer, every attempt and backoff included.',
      unit: 's',
      queries: [0.5, 0.9, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(gateway_request_duration_seconds_bucket[10s])))`,
        legend: `p${Math.round(q * 100)}`,
      })),
    },
    {
      title: 'Downstream calls per second by result',
      description:
        'Attempts the gateway actually sent; locally rejected ones (breaker, bulkhead, throttle) are not here.',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (result) (rate(gateway_downstream_attempts_total[10s]))',
          legend: '{{result}}',
        },
      ],
    },
    {
      title: 'One downstream call: p99 latency by result',
      description: 'Per attempt; a timeout sits at the per-attempt timeout.',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.99, sum by (le, result) (rate(gateway_downstream_attempt_duration_seconds_bucket[10s])))',
          legend: '{{result}}',
        },
      ],
    },
    {
      title: 'Retries made and retries denied per second',
      description: 'Denied: the retry budget was spent, or the breaker was open.',
      unit: 'reqps',
      queries: [
        { expr: 'sum(rate(gateway_retries_total[10s]))', legend: 'made' },
        {
          expr: 'sum by (reason) (rate(gateway_retries_denied_total[10s]))',
          legend: 'denied: {{reason}}',
        },
      ],
    },
    {
      title: 'Per-attempt timeouts per second',
      description:
        'Attempts aborted by the per-attempt timeout (the request to the downstream is cancelled).',
      unit: 'reqps',
      queries: [{ expr: 'sum(rate(gateway_timeouts_total[10s]))', legend: 'timeouts' }],
    },
    {
      title: 'Breaker state',
      description: 'closed, half-open (one probe) or open (failing fast).',
      unit: 'none',
      kind: 'state-timeline',
      states: breakerStates,
      queries: [{ expr: 'max by (instance) (gateway_breaker_state)', legend: '{{instance}}' }],
    },
    {
      title: 'Breaker transitions and fast fails per second',
      description: 'How often the breaker changes state, and attempts it rejected while open.',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (to) (rate(gateway_breaker_transitions_total[10s]))',
          legend: 'to {{to}}',
        },
        { expr: 'sum(rate(gateway_breaker_fast_fails_total[10s]))', legend: 'fast fails' },
      ],
    },
    {
      title: 'Bulkhead: in use, waiting, and rejected per second',
      description:
        'Slots held, attempts queued for a slot (left axis), rejections when the queue is full (right).',
      unit: 'short',
      rightAxis: { legend: 'rejected/s', unit: 'reqps' },
      queries: [
        { expr: 'sum(gateway_bulkhead_in_use)', legend: 'in use' },
        { expr: 'sum(gateway_bulkhead_queued)', legend: 'waiting' },
        { expr: 'sum(rate(gateway_bulkhead_rejected_total[10s]))', legend: 'rejected/s' },
      ],
    },
    {
      title: 'Adaptive throttling: rejection probability and rejections per second',
      description:
        'Client-side throttling (SRE book): rejects locally in proportion to how far requests exceed k × accepts.',
      unit: 'percentunit',
      rightAxis: { legend: 'rejected/s', unit: 'reqps' },
      queries: [
        { expr: 'max(gateway_throttle_reject_probability)', legend: 'probability' },
        { expr: 'sum(rate(gateway_throttled_total[10s]))', legend: 'rejected/s' },
      ],
    },
    {
      title: 'Gateway requests in flight',
      description: 'POST /rpc requests being handled now (waiting in the bulkhead included).',
      unit: 'short',
      queries: [{ expr: 'sum(gateway_inflight_requests)', legend: 'in flight' }],
    },
    {
      title: 'Downstream requests per second by outcome',
      description:
        'ok, error (the failure model) and fault_* (injected faults), as the downstream counted them.',
      unit: 'reqps',
      queries: [
        {
          expr: 'sum by (outcome) (rate(downstream_requests_total[10s]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Downstream latency p99 by outcome',
      description: 'Arrival to answer at the downstream; rises with the load factor above 1.',
      unit: 's',
      queries: [
        {
          expr: 'histogram_quantile(0.99, sum by (le, outcome) (rate(downstream_request_duration_seconds_bucket[10s])))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Downstream load factor',
      description: 'In flight ÷ a tenth of a second of capacity; above 1 (red) it degrades.',
      unit: 'none',
      threshold: 1,
      queries: [{ expr: 'max(downstream_load_factor)', legend: 'load factor' }],
    },
  ],
);

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
          expr: 'sum by (outcome) (rate(producer_events_total[10s]))',
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
          expr: 'histogram_quantile(0.99, sum by (le, outcome) (rate(producer_publish_duration_seconds_bucket[10s])))',
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
          expr: 'sum(rate(worker_jobs_total{outcome="dead_lettered"}[10s]))',
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
          expr: `sum by (instance, outcome) (rate(worker_jobs_total${byInstance}[10s]))`,
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
          expr: `sum by (instance, result) (rate(worker_attempts_total${byInstance}[10s]))`,
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
          expr: `sum by (instance) (rate(worker_retries_total${byInstance}[10s]))`,
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
          expr: `histogram_quantile(0.99, sum by (le) (rate(worker_end_to_end_duration_seconds_bucket${byInstance}[10s])))`,
          legend: 'end to end',
        },
        {
          expr: `histogram_quantile(0.99, sum by (le) (rate(worker_processing_duration_seconds_bucket${byInstance}[10s])))`,
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
          expr: `sum by (instance) (increase(worker_stalled_jobs_total${byInstance}[1m]))`,
          legend: '{{instance}}',
        },
      ],
    },
  ],
  {
    templating: { list: [workerInstance] },
  },
);

export const dashboards: Record<string, Dashboard> = {
  'overview.json': overview,
  'rpc.json': rpcDetail,
  'events.json': eventsDetail,
};

export const dashboardsDir = fileURLToPath(new URL('./dashboards/', import.meta.url));

export const render = (board: Dashboard) => `${JSON.stringify(board, null, 2)}\n`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, board] of Object.entries(dashboards))
    writeFileSync(path.join(dashboardsDir, file), render(board));
  process.stdout.write(`wrote ${Object.keys(dashboards).join(', ')} to ${dashboardsDir}\n`);
}
