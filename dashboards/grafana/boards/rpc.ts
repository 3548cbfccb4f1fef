/** The RPC path in detail: outcomes, attempts, retries, breaker, bulkhead, throttling. */
import { breakerStates, dashboard } from '../panels.ts';

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
          expr: 'sum by (outcome) (rate(gateway_requests_total[$__rate_interval]))',
          legend: '{{outcome}}',
        },
      ],
    },
    {
      title: 'Gateway latency end to end: p50, p90, p99',
      description: 'From request to answer, every attempt and backoff included.',
      unit: 's',
      queries: [0.5, 0.9, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (rate(gateway_request_duration_seconds_bucket[$__rate_interval])))`,
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
          expr: 'sum by (result) (rate(gateway_downstream_attempts_total[$__rate_interval]))',
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
          expr: 'histogram_quantile(0.99, sum by (le, result) (rate(gateway_downstream_attempt_duration_seconds_bucket[$__rate_interval])))',
          legend: '{{result}}',
        },
      ],
    },
    {
      title: 'Retries made and retries denied per second',
      description:
        'Denied: the retry budget or the token bucket was spent, the breaker was open, or the downstream said it was overloaded.',
      unit: 'reqps',
      queries: [
        { expr: 'sum(rate(gateway_retries_total[$__rate_interval]))', legend: 'made' },
        {
          expr: 'sum by (reason) (rate(gateway_retries_denied_total[$__rate_interval]))',
          legend: 'denied: {{reason}}',
        },
      ],
    },
    {
      title: 'Retry tokens left',
      description:
        "Tokens in the retry token buckets (retryTokens: gRPC A6, the AWS SDKs' retry quota), summed over the client instances; 0 when off. Retries stop as it empties.",
      unit: 'short',
      queries: [{ expr: 'sum(gateway_retry_tokens)', legend: 'tokens' }],
    },
    {
      title: 'Per-attempt timeouts per second',
      description:
        'Attempts aborted by the per-attempt timeout (the request to the downstream is cancelled).',
      unit: 'reqps',
      queries: [
        { expr: 'sum(rate(gateway_timeouts_total[$__rate_interval]))', legend: 'timeouts' },
      ],
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
          expr: 'sum by (to) (rate(gateway_breaker_transitions_total[$__rate_interval]))',
          legend: 'to {{to}}',
        },
        {
          expr: 'sum(rate(gateway_breaker_fast_fails_total[$__rate_interval]))',
          legend: 'fast fails',
        },
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
        {
          expr: 'sum(rate(gateway_bulkhead_rejected_total[$__rate_interval]))',
          legend: 'rejected/s',
        },
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
        { expr: 'sum(rate(gateway_throttled_total[$__rate_interval]))', legend: 'rejected/s' },
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
          expr: 'sum by (outcome) (rate(downstream_requests_total[$__rate_interval]))',
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
          expr: 'histogram_quantile(0.99, sum by (le, outcome) (rate(downstream_request_duration_seconds_bucket[$__rate_interval])))',
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
