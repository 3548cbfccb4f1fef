import { describe, expect, it } from 'vitest';
import { summariseRun } from '../../load/experiment/summarise.ts';
import { type RunObservations } from '../../load/experiment/observations.ts';
import { type LoadResult } from '../../load/generator/recording.ts';
import { parsePrometheusText, Scrape } from '../../load/stack/prom-text.ts';
import type { ServiceName } from '../../load/stack/stack.ts';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';

const scrape = (text: string) => new Scrape(parsePrometheusText(text));
const empty = scrape('');
const scrapes = (texts: Partial<Record<ServiceName, string>>): Record<ServiceName, Scrape> => ({
  downstream: texts.downstream ? scrape(texts.downstream) : empty,
  gateway: texts.gateway ? scrape(texts.gateway) : empty,
  producer: texts.producer ? scrape(texts.producer) : empty,
  worker: texts.worker ? scrape(texts.worker) : empty,
});
const latency = { count: 0, p50Ms: 12, p95Ms: 30, p99Ms: 45, maxMs: 50, meanMs: 14 };
const load = (overrides: Partial<LoadResult> = {}): LoadResult => ({
  target: 'rpc',
  durationMs: 2000,
  sent: 100,
  ok: 90,
  failed: 10,
  dropped: 0,
  outcomes: { ok: 90, '503 circuit_open': 10 },
  latency,
  serviceLatency: latency,
  lateness: latency,
  pacing: latency,
  bursts: null,
  series: [],
  warnings: [],
  ...overrides,
});
const observations = (overrides: Partial<RunObservations>): RunObservations => ({
  name: 'run',
  target: 'rpc',
  load: load(),
  before: scrapes({}),
  after: scrapes({}),
  queueBefore: null,
  queueAfter: null,
  samples: [],
  faultWindows: [],
  durationMs: 2100,
  warnings: [],
  recoveryRule: defaultVerdictRule,
  ...overrides,
});
const sample = (loadFactor: number, loopLagMs: number, queueDepth: number | null = null) => ({
  atMs: 0,
  loadFactor,
  peakLoadFactor: loadFactor,
  downstreamInflight: 0,
  breakerState: 0,
  queueDepth,
  loopLagMs,
  retries: 0,
  attempts: 0,
});

describe('summariseRun', () => {
  it('summarises an rpc run from the generator and the counters’ difference', () => {
    const summary = summariseRun(
      observations({
        before: scrapes({
          gateway:
            'gateway_downstream_attempts_total{result="ok"} 5\ngateway_retries_total 1\ngateway_requests_total{outcome="circuit_open"} 2',
          downstream: 'downstream_requests_total{outcome="ok"} 5',
        }),
        after: scrapes({
          gateway: [
            'gateway_downstream_attempts_total{result="ok"} 105',
            'gateway_downstream_attempts_total{result="timeout"} 20',
            'gateway_retries_total 26',
            'gateway_timeouts_total 20',
            'gateway_requests_total{outcome="circuit_open"} 12',
            'gateway_requests_total{outcome="ok"} 90',
            'gateway_breaker_open_seconds_total 0.3',
          ].join('\n'),
          downstream: [
            'downstream_requests_total{outcome="ok"} 125',
            'downstream_overloaded_seconds_total 0.42',
            'downstream_arrival_load_factor_bucket{le="1"} 60',
            'downstream_arrival_load_factor_bucket{le="2"} 120',
            'downstream_arrival_load_factor_bucket{le="+Inf"} 120',
          ].join('\n'),
        }),
        // The downstream's own peak between samples is higher than what any sample saw.
        samples: [sample(0.5, 3), { ...sample(1.7, 20), peakLoadFactor: 2.5 }],
      }),
    );
    expect(summary).toMatchObject({
      target: 'rpc',
      sent: 100,
      ok: 90,
      failed: 10,
      dropped: 0,
      attempts: 120,
      downstreamCalls: 120,
      retries: 25,
      timeouts: 20,
      cbOpen: 10,
      amplification: 1.2,
      goodputRps: 45,
      p50Ms: 12,
      p99Ms: 45,
      maxLoadFactor: 2.5,
      loadFactorP50: 1,
      loadFactorP99: 1.98,
      overloadedShare: 0.2,
      breakerOpenMs: 300,
      maxLoopLagMs: 20,
      warnings: [],
    });
    expect(summary.recovery.verdict).toBe('no trigger');
    expect(summary).not.toHaveProperty('lost');
  });

  it('counts events from Redis’ own accounting, and warns when the worker’s counters disagree', () => {
    const summary = summariseRun(
      observations({
        target: 'events',
        load: load({ target: 'events', sent: 100, ok: 95, failed: 3, dropped: 2 }),
        queueBefore: {
          waiting: 0,
          active: 0,
          delayed: 0,
          completed: 10,
          failed: 0,
          deadLettered: 1,
        },
        queueAfter: {
          waiting: 0,
          active: 0,
          delayed: 0,
          completed: 100,
          failed: 0,
          deadLettered: 5,
        },
        after: scrapes({
          worker: [
            'worker_jobs_total{outcome="completed"} 89',
            'worker_jobs_total{outcome="dead_lettered"} 4',
            'worker_attempts_total{result="ok"} 90',
            'worker_attempts_total{result="timeout"} 16',
            'worker_retries_total 12',
            'worker_end_to_end_duration_seconds_bucket{le="0.1"} 45',
            'worker_end_to_end_duration_seconds_bucket{le="1"} 90',
            'worker_end_to_end_duration_seconds_bucket{le="+Inf"} 90',
            'worker_end_to_end_duration_seconds_sum 18',
            'worker_end_to_end_duration_seconds_count 90',
          ].join('\n'),
        }),
        samples: [sample(0.5, 150, 40), sample(0.6, 10, 70)],
        durationMs: 3000,
      }),
    );
    expect(summary).toMatchObject({
      target: 'events',
      sent: 100,
      accepted: 95,
      ok: 90,
      dlq: 4,
      failed: 7,
      dropped: 2,
      lost: 1,
      attempts: 106,
      timeouts: 16,
      retries: 12,
      amplification: 1.06,
      goodputRps: 30,
      p50Ms: 100,
      meanMs: 200,
      maxQueueDepth: 70,
      maxLoopLagMs: 150,
    });
    expect(summary.warnings).toEqual([
      expect.stringContaining('event loop stalled for up to 150 ms'),
      "the worker's counters (completed 89, dead-lettered 4) disagree with Redis (completed 90, dead-lettered 4); the table uses Redis",
    ]);
  });

  it('counts an event answered 503 whose add landed late as accepted, not as failed, and says so', () => {
    const counts = (completed: number, deadLettered: number) => ({
      waiting: 0,
      active: 0,
      delayed: 0,
      completed,
      failed: 0,
      deadLettered,
    });
    // 10 sent: 7 answered 202, 3 answered 503 of which 2 were queued after all.
    const summary = summariseRun(
      observations({
        target: 'events',
        load: load({ target: 'events', sent: 10, ok: 7, failed: 3, dropped: 0 }),
        queueBefore: counts(0, 0),
        queueAfter: counts(8, 1),
        after: scrapes({ producer: 'producer_events_queued_late_total 2' }),
      }),
    );
    expect(summary).toMatchObject({ sent: 10, accepted: 9, ok: 8, dlq: 1, failed: 2, lost: 0 });
    expect(summary.warnings).toContainEqual(expect.stringContaining('2 events were answered 503'));
  });

  it('summarises one subscriber of a topic from its own queue, its workers’ labelled series and its samples', () => {
    // Of 10 events, billing completes 7 and dead-letters 3; audit completes all 10.
    const queue = (name: string, completed: number, deadLettered: number) => ({
      name,
      queue: `events.${name}`,
      ...{ waiting: 0, active: 0, delayed: 0, failed: 0 },
      completed,
      deadLettered,
    });
    const counts = (done: number) => {
      const subscribers = [queue('billing', 0.7 * done, 0.3 * done), queue('audit', done, 0)];
      return { ...queue('', 1.7 * done, 0.3 * done), subscribers };
    };
    const workerMetrics = (done: number) =>
      [
        `worker_jobs_total{outcome="completed",subscriber="billing"} ${0.7 * done}`,
        `worker_jobs_total{outcome="dead_lettered",subscriber="billing"} ${0.3 * done}`,
        `worker_attempts_total{result="ok",subscriber="billing"} ${0.7 * done}`,
        `worker_attempts_total{result="error",subscriber="billing"} ${0.9 * done}`,
        `worker_retries_total{subscriber="billing"} ${0.6 * done}`,
        `worker_jobs_total{outcome="completed",subscriber="audit"} ${done}`,
        `worker_attempts_total{result="ok",subscriber="audit"} ${done}`,
      ].join('\n');
    const downstreamMetrics = (done: number) =>
      [
        `downstream_requests_total{outcome="ok",caller="worker/billing"} ${0.7 * done}`,
        `downstream_requests_total{outcome="fault_error",caller="worker/billing"} ${0.9 * done}`,
        `downstream_requests_total{outcome="ok",caller="worker/audit"} ${done}`,
        `downstream_duplicate_effects_total{caller="worker/audit"} ${0.2 * done}`,
      ].join('\n');
    const topic = (subscriber: string) =>
      summariseRun(
        observations({
          target: 'events',
          subscriber,
          load: load({ target: 'events', sent: 10, ok: 10, failed: 0 }),
          queueBefore: counts(0),
          queueAfter: counts(10),
          before: scrapes({ worker: workerMetrics(0), downstream: downstreamMetrics(0) }),
          after: scrapes({ worker: workerMetrics(10), downstream: downstreamMetrics(10) }),
          samples: [
            {
              ...sample(0.5, 5, 12),
              subscribers: {
                billing: { queueDepth: 10, retries: 4, attempts: 14 },
                audit: { queueDepth: 2, retries: 0, attempts: 5 },
              },
            },
          ],
        }),
      );
    const [billing, audit] = [topic('billing'), topic('audit')];
    expect(billing).toMatchObject({ ok: 7, dlq: 3, lost: 0, attempts: 16, retries: 6 });
    expect(audit).toMatchObject({ ok: 10, dlq: 0, lost: 0, attempts: 10, retries: 0 });
    // The downstream's calls and duplicates by caller: each row its own workers'.
    expect(billing).toMatchObject({ downstreamCalls: 16, duplicateEffects: 0 });
    expect(audit).toMatchObject({ downstreamCalls: 10, duplicateEffects: 2 });
    expect(billing.warnings).toEqual([]);
    expect(billing.samples[0]).toMatchObject({ queueDepth: 10, retries: 4, attempts: 14 });
    expect(audit.samples[0]).toMatchObject({ queueDepth: 2, retries: 0, attempts: 5 });
    expect(audit.samples[0]).not.toHaveProperty('subscribers');
  });

  it('times the recovery from the last fault window, and keeps the generator’s and the runner’s warnings', () => {
    const buckets = Array.from({ length: 20 }, (_, i) => ({
      startMs: i * 100,
      sent: 10,
      ok: i >= 5 && i < 8 ? 0 : 10,
      failed: i >= 5 && i < 8 ? 10 : 0,
      dropped: 0,
      p50Ms: null,
      p99Ms: null,
    }));
    const summary = summariseRun(
      observations({
        load: load({ series: buckets, warnings: ['generator late'] }),
        faultWindows: [{ startMs: 500, endMs: 700, kind: 'error' }],
        warnings: ['queue did not drain'],
      }),
    );
    expect(summary.recovery).toMatchObject({ verdict: 'recovered', recoveryMs: 100 });
    expect(summary.warnings).toEqual(['generator late', 'queue did not drain']);
  });
});
