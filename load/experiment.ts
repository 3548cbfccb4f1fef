import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { call as callJson } from './http-json.ts';
import { type Bucket, type LoadProgress, type LoadResult, runLoad } from './generator.ts';
import { quantileBetween, Scrape } from './prom-text.ts';
import type { Run, Scenario } from './scenario.ts';
import { buildSchedule } from './schedule.ts';
import { type Stack, startStack } from './stack.ts';

/** What the system looked like every ~250 ms during a run (sampling costs CPU the system under test shares). */
export interface SystemSample {
  atMs: number;
  loadFactor: number | null;
  downstreamInflight: number | null;
  breakerState: number | null;
  queueDepth: number | null;
}

export interface RunSummary {
  name: string;
  target: 'rpc' | 'events';
  /** Arrivals: sent = ok + failed + dropped. */
  sent: number;
  /** rpc: 200 answers; events: jobs completed. */
  ok: number;
  /** rpc: error answers; events: refused at publish (503) + dead-lettered. */
  failed: number;
  /** Refused for capacity: 429 queue_full, or the generator's cap. */
  dropped: number;
  /** events only: accepted (202) = completed + dead-lettered + lost. */
  accepted: number | null;
  lost: number | null;
  retries: number;
  timeouts: number;
  cbOpen: number;
  dlq: number;
  /** Calls the gateway or worker sent to the downstream. */
  attempts: number;
  /** Calls the downstream counted itself (equals `attempts`: nothing else calls it). */
  downstreamCalls: number;
  /** attempts ÷ sent. */
  amplification: number;
  goodputRps: number;
  /** rpc: from the scheduled send to the answer; events: from publish to completion. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  /** events: one processing attempt. */
  processingP50Ms: number | null;
  processingP99Ms: number | null;
  maxQueueDepth: number | null;
  maxLoadFactor: number | null;
  /** After the last fault ends, until the success ratio is back to 90 % of the pre-fault one. */
  recoveryMs: number | null | 'did not recover';
  durationMs: number;
  outcomes: Record<string, number>;
  warnings: string[];
  series: Bucket[];
  samples: SystemSample[];
  faultWindows: Array<{ startMs: number; endMs: number; kind: string }>;
}

export interface ExperimentResult {
  scenario: Scenario;
  startedAt: string;
  environment: { node: string; platform: string; cpus: number };
  runs: RunSummary[];
  thresholds: Array<{ expression: string; value: number | null; passed: boolean }>;
}

export interface ExperimentOptions {
  onProgress?: (run: string, progress: LoadProgress, queueDepth: number | null) => void;
  onRunStart?: (run: Run, index: number) => void;
}

const round = <T extends number | null>(value: T, digits = 2): T =>
  (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits) as T;

async function put(url: string, body: unknown, adminToken: string | undefined): Promise<void> {
  const response = await callJson(url, 'PUT', body, adminToken);
  if (response.status !== 200)
    throw new Error(`PUT ${url} answered ${response.status}: ${JSON.stringify(response.body)}`);
}

async function queueCounts(
  producerUrl: string,
  adminToken: string | undefined,
): Promise<Record<string, number> | null> {
  const response = await callJson(`${producerUrl}/admin/queue`, 'GET', undefined, adminToken).catch(
    () => null,
  );
  return response?.status === 200 ? (response.body as Record<string, number>) : null;
}

async function sampleSystem(
  stack: Stack,
  target: Run['target'],
  startedAt: number,
): Promise<SystemSample> {
  const [downstream, gateway, counts] = await Promise.all([
    Scrape.of(stack.services.downstream.url).catch(() => null),
    target === 'rpc'
      ? Scrape.of(stack.services.gateway.url).catch(() => null)
      : Promise.resolve(null),
    target === 'events'
      ? queueCounts(stack.services.producer.url, stack.adminToken)
      : Promise.resolve(null),
  ]);
  return {
    atMs: Math.round(performance.now() - startedAt),
    loadFactor: downstream?.sum('downstream_load_factor') ?? null,
    downstreamInflight: downstream?.sum('downstream_inflight_requests') ?? null,
    breakerState: gateway?.sum('gateway_breaker_state') ?? null,
    queueDepth: counts
      ? (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0)
      : null,
  };
}

/** Time from the end of the last fault until a series bucket's success ratio is back to 90 % of the pre-fault one. */
export function recoveryTime(
  series: Bucket[],
  faults: Array<{ startMs: number; endMs: number }>,
): number | null | 'did not recover' {
  if (faults.length === 0) return null;
  const firstStart = Math.min(...faults.map((fault) => fault.startMs));
  const lastEnd = Math.max(...faults.map((fault) => fault.endMs));
  const ratio = (buckets: Bucket[]) => {
    const ok = buckets.reduce((sum, bucket) => sum + bucket.ok, 0);
    const done = buckets.reduce(
      (sum, bucket) => sum + bucket.ok + bucket.failed + bucket.dropped,
      0,
    );
    return done === 0 ? null : ok / done;
  };
  const bucketMs = series.length > 1 ? series[1]!.startMs - series[0]!.startMs : 250;
  const baseline = ratio(series.filter((bucket) => bucket.startMs + bucketMs <= firstStart)) ?? 1;
  for (const bucket of series) {
    if (bucket.startMs < lastEnd) continue;
    const now = ratio([bucket]);
    if (now !== null && now >= 0.9 * baseline) return Math.max(0, bucket.startMs - lastEnd);
  }
  return 'did not recover';
}

async function waitForDrain(
  producerUrl: string,
  timeoutMs: number,
  adminToken: string | undefined,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const counts = await queueCounts(producerUrl, adminToken);
    if (
      counts &&
      counts.waiting === 0 &&
      counts.active === 0 &&
      counts.delayed === 0 &&
      counts.failed === 0
    )
      return true;
    await sleep(100);
  }
  return false;
}

async function scrapeAll(stack: Stack): Promise<Record<string, Scrape>> {
  const entries = await Promise.all(
    Object.values(stack.services).map(
      async (service) => [service.name, await Scrape.of(service.url)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

async function executeRun(
  scenario: Scenario,
  run: Run,
  options: ExperimentOptions,
): Promise<RunSummary> {
  const stack = await startStack({
    ...(scenario.seed !== undefined ? { seed: scenario.seed } : {}),
    queueName: `events-${run.name}`,
  });
  try {
    const { downstream, gateway, producer, worker } = stack.services;
    if (scenario.downstream)
      await put(`${downstream.url}/admin/faults`, { model: scenario.downstream }, stack.adminToken);
    const applyPolicy = async () => {
      if (run.target === 'rpc')
        await put(`${gateway.url}/admin/policy`, run.policy ?? {}, stack.adminToken);
      else {
        if (run.producer) await put(`${producer.url}/admin/policy`, run.producer, stack.adminToken);
        if (run.worker) await put(`${worker.url}/admin/policy`, run.worker, stack.adminToken);
      }
    };
    await applyPolicy();
    // Warm up connections and the JIT at a gentle rate, so a cold start is not what gets measured;
    // then apply the policy again, which resets the breaker, bulkhead and windows.
    const baseUrl = run.target === 'rpc' ? gateway.url : producer.url;
    await runLoad({
      target: run.target,
      baseUrl,
      offsetsMs: Array.from({ length: 40 }, (_, i) => i * 25),
      idPrefix: 'warmup',
    });
    if (run.target === 'events') await waitForDrain(producer.url, 30_000, stack.adminToken);
    await applyPolicy();

    const before = await scrapeAll(stack);
    const queueBefore =
      run.target === 'events' ? await queueCounts(producer.url, stack.adminToken) : null;
    const startedAt = performance.now();
    const samples: SystemSample[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await sampleSystem(stack, run.target, startedAt));
        await sleep(250);
      }
    })();
    const faultWindows = (scenario.faults ?? []).map(({ at, ...fault }) => ({
      startMs: at,
      endMs: at + fault.durationMs,
      kind: fault.kind,
    }));
    const faultTimers = (scenario.faults ?? []).map(({ at, ...fault }) =>
      setTimeout(
        () =>
          void put(`${downstream.url}/admin/faults`, { faults: [fault] }, stack.adminToken).catch(
            () => undefined,
          ),
        at,
      ),
    );
    let load: LoadResult;
    try {
      load = await runLoad({
        target: run.target,
        baseUrl,
        offsetsMs: buildSchedule(scenario.load),
        maxOutstanding: scenario.maxOutstanding ?? 10_000,
        idPrefix: run.name,
        bucketMs: 100,
        onProgress: (progress) =>
          options.onProgress?.(run.name, progress, samples.at(-1)?.queueDepth ?? null),
      });
      if (run.target === 'events')
        await waitForDrain(producer.url, scenario.drainTimeoutMs ?? 120_000, stack.adminToken);
    } finally {
      faultTimers.forEach(clearTimeout);
      sampling = false;
      await sampler;
    }
    const durationMs = Math.round(performance.now() - startedAt);
    const after = await scrapeAll(stack);
    const queueAfter =
      run.target === 'events' ? await queueCounts(producer.url, stack.adminToken) : null;
    const delta = (service: string, name: string, labels: Record<string, string> = {}) =>
      after[service]!.sum(name, labels) - before[service]!.sum(name, labels);
    const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000));

    const common = {
      name: run.name,
      target: run.target,
      sent: load.sent,
      durationMs,
      outcomes: load.outcomes,
      warnings: load.warnings,
      series: load.series,
      samples,
      faultWindows,
      maxLoadFactor: round(Math.max(...samples.map((sample) => sample.loadFactor ?? 0))),
      downstreamCalls: delta('downstream', 'downstream_requests_total'),
      recoveryMs: recoveryTime(load.series, faultWindows),
    };
    if (run.target === 'rpc') {
      const attempts = delta('gateway', 'gateway_downstream_attempts_total');
      return {
        ...common,
        ok: load.ok,
        failed: load.failed,
        dropped: load.dropped,
        accepted: null,
        lost: null,
        retries: delta('gateway', 'gateway_retries_total'),
        timeouts: delta('gateway', 'gateway_timeouts_total'),
        cbOpen: delta('gateway', 'gateway_requests_total', { outcome: 'circuit_open' }),
        dlq: 0,
        attempts,
        amplification: round(attempts / Math.max(1, load.sent)),
        goodputRps: round(load.ok / (load.durationMs / 1000)),
        p50Ms: load.latency.p50Ms,
        p95Ms: load.latency.p95Ms,
        p99Ms: load.latency.p99Ms,
        meanMs: load.latency.meanMs,
        processingP50Ms: null,
        processingP99Ms: null,
        maxQueueDepth: null,
      };
    }
    // Accounting from Redis itself (what the queues hold), not from the worker's counters.
    const fromQueue = (field: string) => (queueAfter?.[field] ?? 0) - (queueBefore?.[field] ?? 0);
    const completed = fromQueue('completed');
    const dlq = fromQueue('deadLettered');
    const warnings = [...load.warnings];
    const metricCompleted = delta('worker', 'worker_jobs_total', { outcome: 'completed' });
    const metricDlq = delta('worker', 'worker_jobs_total', { outcome: 'dead_lettered' });
    if (metricCompleted !== completed || metricDlq !== dlq) {
      warnings.push(
        `the worker's counters (completed ${metricCompleted}, dead-lettered ${metricDlq}) disagree with Redis (completed ${completed}, dead-lettered ${dlq}); the table uses Redis`,
      );
    }
    const attempts = delta('worker', 'worker_attempts_total');
    const e2eCount = delta('worker', 'worker_end_to_end_duration_seconds_count');
    const e2e = (q: number) =>
      ms(quantileBetween(before.worker!, after.worker!, 'worker_end_to_end_duration_seconds', q));
    const processing = (q: number) =>
      ms(quantileBetween(before.worker!, after.worker!, 'worker_processing_duration_seconds', q));
    return {
      ...common,
      warnings,
      ok: completed,
      failed: load.failed + dlq,
      dropped: load.dropped,
      accepted: load.ok,
      lost: load.ok - completed - dlq,
      retries: delta('worker', 'worker_retries_total'),
      timeouts: delta('worker', 'worker_attempts_total', { result: 'timeout' }),
      cbOpen: 0,
      dlq,
      attempts,
      amplification: round(attempts / Math.max(1, load.sent)),
      goodputRps: round(completed / (durationMs / 1000)),
      p50Ms: e2e(0.5),
      p95Ms: e2e(0.95),
      p99Ms: e2e(0.99),
      meanMs:
        e2eCount === 0
          ? null
          : round((delta('worker', 'worker_end_to_end_duration_seconds_sum') / e2eCount) * 1000),
      processingP50Ms: processing(0.5),
      processingP99Ms: processing(0.99),
      maxQueueDepth: Math.max(0, ...samples.map((sample) => sample.queueDepth ?? 0)),
    };
  } finally {
    await stack.stop();
  }
}

const thresholdValue = (run: RunSummary, metric: string): number | null => {
  const values: Record<string, number | null> = {
    ok: run.ok,
    failed: run.failed,
    dropped: run.dropped,
    retries: run.retries,
    timeouts: run.timeouts,
    cb_open: run.cbOpen,
    dlq: run.dlq,
    lost: run.lost,
    p50_ms: run.p50Ms,
    p95_ms: run.p95Ms,
    p99_ms: run.p99Ms,
    mean_ms: run.meanMs,
    amplification: run.amplification,
    goodput_rps: run.goodputRps,
  };
  return values[metric] ?? null;
};

/** Evaluates `run.metric op number` against the summaries; a missing value fails. */
export function evaluateThresholds(
  expressions: string[],
  runs: RunSummary[],
): ExperimentResult['thresholds'] {
  return expressions.map((expression) => {
    const match = /^([\w-]+)\.(\w+)\s*(<=|>=|==|<|>)\s*(-?[\d.]+)$/.exec(expression.trim());
    const run = runs.find((candidate) => candidate.name === match?.[1]);
    const value = run && match ? thresholdValue(run, match[2]!) : null;
    if (value === null || !match) return { expression, value, passed: false };
    const limit = Number(match[4]);
    const passed = {
      '<': value < limit,
      '<=': value <= limit,
      '>': value > limit,
      '>=': value >= limit,
      '==': value === limit,
    }[match[3] as '<'];
    return { expression, value, passed };
  });
}

/** Runs every run of a scenario, each on a fresh local stack, and summarises them. */
export async function runExperiment(
  scenario: Scenario,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const startedAt = new Date().toISOString();
  const runs: RunSummary[] = [];
  for (const [index, run] of scenario.runs.entries()) {
    options.onRunStart?.(run, index);
    runs.push(await executeRun(scenario, run, options));
  }
  return {
    scenario,
    startedAt,
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
    },
    runs,
    thresholds: evaluateThresholds(scenario.thresholds ?? [], runs),
  };
}
