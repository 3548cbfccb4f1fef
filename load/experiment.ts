import { lookup } from 'node:dns/promises';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { call as callJson } from './http-json.ts';
import { type Bucket, type LoadProgress, type LoadResult, runLoad } from './generator.ts';
import { quantileBetween, Scrape } from './prom-text.ts';
import type { LoadMetrics } from './metrics.ts';
import type { Run, Scenario } from './scenario.ts';
import { buildSchedule } from './schedule.ts';
import { type ServiceName, serviceNames, startStack } from './stack.ts';

/** What the system looked like every ~250 ms during a run (sampling costs CPU the system under test shares). */
export interface SystemSample {
  atMs: number;
  loadFactor: number | null;
  downstreamInflight: number | null;
  breakerState: number | null;
  queueDepth: number | null;
  /** The longest event-loop stall of the caller (gateway or worker) or the downstream since the last sample. */
  loopLagMs: number | null;
  /** Since the run started: retries (gateway or worker) and calls sent to the downstream. */
  retries: number | null;
  attempts: number | null;
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
  /** The longest event-loop stall of the caller or the downstream during the run: CPU contention on this machine shows here. */
  maxLoopLagMs: number | null;
  /** After the last fault (or the load trigger) ends, until the success ratio is back to 90 % of the one before it, and stays back for 1 s. */
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
  /** Run against these running services (e.g. docker compose) instead of a fresh local stack per run. */
  urls?: StackUrls;
  /** The running stack's ADMIN_TOKEN, if it has one. */
  adminToken?: string;
  /** The generator's counters for a `/metrics` endpoint (the measured load only, not the warm-up). */
  metrics?: LoadMetrics;
}

/** The origins of a running stack's four services. */
export type StackUrls = Record<ServiceName, string>;

/** Where one run's traffic and admin calls go. */
interface Target {
  urls: StackUrls;
  /** Every worker replica's origin: a hostname that resolves to several addresses (compose replicas) gives several. */
  workers: string[];
  adminToken: string | undefined;
  /** Request ids must not repeat on a long-lived queue (the producer answers a repeat as a duplicate). */
  idPrefix: string;
}

/** Parses `downstream=URL,gateway=URL,producer=URL,worker=URL`; every service must be named once. */
export function parseUrls(text: string): { urls?: StackUrls; problems: string[] } {
  const problems: string[] = [];
  const urls: Partial<StackUrls> = {};
  const named = new Set<string>();
  for (const pair of text.split(',').filter(Boolean)) {
    const [name = '', url] = pair.split(/=(.*)/s, 2);
    if (!serviceNames.includes(name as ServiceName)) {
      problems.push(`--urls: "${name}" is not a service (${serviceNames.join(', ')})`);
      continue;
    }
    named.add(name);
    if (!url || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      problems.push(`--urls: ${name} needs an http(s) URL, got "${url ?? ''}"`);
      continue;
    }
    urls[name as ServiceName] = url.replace(/\/+$/, '');
  }
  for (const name of serviceNames)
    if (!named.has(name)) problems.push(`--urls: ${name}=URL is missing`);
  return problems.length > 0 ? { problems } : { urls: urls as StackUrls, problems };
}

/**
 * One origin per address the URL's host resolves to and that answers `/healthz`: compose
 * replicas share a name, while `localhost` may resolve to ::1 where nothing listens.
 */
async function replicasOf(origin: string): Promise<string[]> {
  const url = new URL(origin);
  const addresses = await lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(
    () => [],
  );
  if (addresses.length <= 1) return [origin];
  const candidates = addresses.map(({ address, family }) => {
    const replica = new URL(origin);
    replica.hostname = family === 6 ? `[${address}]` : address;
    return replica.origin;
  });
  const healthy = await Promise.all(
    candidates.map((candidate) =>
      callJson(`${candidate}/healthz`, 'GET').then(
        (response) => response.status === 200,
        () => false,
      ),
    ),
  );
  const live = candidates.filter((_, i) => healthy[i]);
  return live.length > 0 ? live : [origin];
}

const round = <T extends number | null>(value: T, digits = 2): T =>
  (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits) as T;

async function admin(
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  adminToken: string | undefined,
  body?: unknown,
): Promise<unknown> {
  const response = await callJson(url, method, body, adminToken);
  if (response.status === 401)
    throw new Error(
      `${method} ${url} answered 401: the stack has an ADMIN_TOKEN; pass it with --admin-token or ADMIN_TOKEN`,
    );
  if (response.status !== 200)
    throw new Error(
      `${method} ${url} answered ${response.status}: ${JSON.stringify(response.body)}`,
    );
  return response.body;
}

const put = (url: string, body: unknown, adminToken: string | undefined) =>
  admin('PUT', url, adminToken, body);

async function queueCounts(
  producerUrl: string,
  adminToken: string | undefined,
): Promise<Record<string, number> | null> {
  const response = await callJson(`${producerUrl}/admin/queue`, 'GET', undefined, adminToken).catch(
    () => null,
  );
  return response?.status === 200 ? (response.body as Record<string, number>) : null;
}

/** The largest `nodejs_eventloop_lag_max_seconds` (prom-client: the max since its last collect) in ms. */
function loopLag(scrapes: Array<Scrape | null>): number | null {
  const values = scrapes
    .flatMap((scrape) => scrape?.samples ?? [])
    .filter((sample) => sample.name === 'nodejs_eventloop_lag_max_seconds')
    .map((sample) => sample.value * 1000);
  return values.length === 0 ? null : Math.max(...values);
}

/** One scrape summed over replicas. */
async function scrapeMany(origins: string[]): Promise<Scrape> {
  const scrapes = await Promise.all(origins.map((origin) => Scrape.of(origin)));
  return new Scrape(scrapes.flatMap((scrape) => scrape.samples));
}

async function sampleSystem(
  target: Target,
  run: Run,
  startedAt: number,
  before: Record<string, Scrape>,
): Promise<SystemSample> {
  const caller = run.target === 'rpc' ? 'gateway' : 'worker';
  const [downstream, callerScrape, counts] = await Promise.all([
    Scrape.of(target.urls.downstream).catch(() => null),
    (run.target === 'rpc' ? Scrape.of(target.urls.gateway) : scrapeMany(target.workers)).catch(
      () => null,
    ),
    run.target === 'events'
      ? queueCounts(target.urls.producer, target.adminToken)
      : Promise.resolve(null),
  ]);
  const since = (name: string) =>
    callerScrape ? callerScrape.sum(name) - before[caller]!.sum(name) : null;
  return {
    atMs: Math.round(performance.now() - startedAt),
    loadFactor: downstream?.sum('downstream_load_factor') ?? null,
    downstreamInflight: downstream?.sum('downstream_inflight_requests') ?? null,
    breakerState:
      run.target === 'rpc' ? (callerScrape?.sum('gateway_breaker_state') ?? null) : null,
    queueDepth: counts
      ? (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0)
      : null,
    loopLagMs: loopLag([downstream, callerScrape]),
    retries: since(`${caller}_retries_total`),
    attempts: since(
      caller === 'gateway' ? 'gateway_downstream_attempts_total' : 'worker_attempts_total',
    ),
  };
}

/**
 * Time from the end of the last window (fault or load trigger) until the success ratio of
 * 100 ms buckets is back to 90 % of the one before the first window, and stays back for
 * `holdMs` (or until the run ends). A single lucky bucket in a cascade is not a recovery.
 */
export function recoveryTime(
  series: Bucket[],
  windows: Array<{ startMs: number; endMs: number }>,
  holdMs = 1000,
): number | null | 'did not recover' {
  if (windows.length === 0) return null;
  const firstStart = Math.min(...windows.map((window) => window.startMs));
  const lastEnd = Math.max(...windows.map((window) => window.endMs));
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
  const after = series.filter((bucket) => bucket.startMs >= lastEnd);
  const healthy = after.map((bucket) => {
    const now = ratio([bucket]);
    return now === null || now >= 0.9 * baseline;
  });
  for (const [index, bucket] of after.entries()) {
    if (ratio([bucket]) === null || !healthy[index]) continue;
    const held = after.findIndex(
      (later, laterIndex) =>
        laterIndex > index && later.startMs < bucket.startMs + holdMs && !healthy[laterIndex],
    );
    if (held === -1) return Math.max(0, bucket.startMs - lastEnd);
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

async function scrapeAll(target: Target): Promise<Record<ServiceName, Scrape>> {
  const [downstream, gateway, producer, worker] = await Promise.all([
    Scrape.of(target.urls.downstream),
    Scrape.of(target.urls.gateway),
    Scrape.of(target.urls.producer),
    scrapeMany(target.workers),
  ]);
  return { downstream, gateway, producer, worker };
}

/** The policies a running stack had when the experiment began; each run starts from them again. */
interface Baseline {
  gateway: unknown;
  producer: unknown;
  workers: unknown[];
}

async function readBaseline(target: Omit<Target, 'idPrefix'>): Promise<Baseline> {
  const get = (url: string) => admin('GET', url, target.adminToken);
  const [gateway, producer, workers] = await Promise.all([
    get(`${target.urls.gateway}/admin/policy`),
    get(`${target.urls.producer}/admin/policy`),
    Promise.all(target.workers.map((worker) => get(`${worker}/admin/policy`))),
  ]);
  return { gateway: (gateway as { policy: unknown }).policy, producer, workers };
}

/**
 * Puts a running stack back where the experiment found it: faults cleared (and the startup
 * model back), the first policies again, the queue drained and its completed jobs removed.
 */
async function resetStack(target: Target, baseline: Baseline): Promise<void> {
  const { urls, adminToken } = target;
  await admin('DELETE', `${urls.downstream}/admin/faults`, adminToken);
  await put(`${urls.gateway}/admin/policy`, baseline.gateway, adminToken);
  await put(`${urls.producer}/admin/policy`, baseline.producer, adminToken);
  await Promise.all(
    target.workers.map((worker, i) =>
      put(`${worker}/admin/policy`, baseline.workers[i], adminToken),
    ),
  );
  if (!(await waitForDrain(urls.producer, 120_000, adminToken)))
    throw new Error(
      `the event queue at ${urls.producer} did not drain within 120 s; is a worker running?`,
    );
  await admin('DELETE', `${urls.producer}/admin/queue/completed`, adminToken);
}

async function executeRun(
  scenario: Scenario,
  run: Run,
  target: Target,
  options: ExperimentOptions,
): Promise<RunSummary> {
  const { adminToken, urls } = target;
  const { downstream, gateway, producer } = urls;
  if (scenario.downstream)
    await put(`${downstream}/admin/faults`, { model: scenario.downstream }, adminToken);
  const applyPolicy = async () => {
    if (run.target === 'rpc') await put(`${gateway}/admin/policy`, run.policy ?? {}, adminToken);
    else {
      if (run.producer) await put(`${producer}/admin/policy`, run.producer, adminToken);
      const workerPolicy = run.worker;
      if (workerPolicy)
        await Promise.all(
          target.workers.map((worker) => put(`${worker}/admin/policy`, workerPolicy, adminToken)),
        );
    }
  };
  await applyPolicy();
  // Warm up connections and the JIT at a gentle rate, so a cold start is not what gets measured;
  // then apply the policy again, which resets the breaker, bulkhead and windows.
  const baseUrl = run.target === 'rpc' ? gateway : producer;
  await runLoad({
    target: run.target,
    baseUrl,
    offsetsMs: Array.from({ length: 40 }, (_, i) => i * 25),
    idPrefix: `warmup-${target.idPrefix}`,
  });
  if (run.target === 'events') await waitForDrain(producer, 30_000, adminToken);
  await applyPolicy();

  const before = await scrapeAll(target);
  const queueBefore = run.target === 'events' ? await queueCounts(producer, adminToken) : null;
  const startedAt = performance.now();
  const samples: SystemSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await sampleSystem(target, run, startedAt, before));
      await sleep(250);
    }
  })();
  const faultWindows = [
    ...(scenario.faults ?? []).map(({ at, ...fault }) => ({
      startMs: at,
      endMs: at + fault.durationMs,
      kind: fault.kind,
    })),
    ...(scenario.trigger
      ? [
          {
            startMs: scenario.trigger.at,
            endMs: scenario.trigger.at + scenario.trigger.durationMs,
            kind: 'load trigger',
          },
        ]
      : []),
  ];
  const faultTimers = (scenario.faults ?? []).map(({ at, ...fault }) =>
    setTimeout(
      () =>
        void put(`${downstream}/admin/faults`, { faults: [fault] }, adminToken).catch(
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
      idPrefix: target.idPrefix,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      bucketMs: 100,
      onProgress: (progress) =>
        options.onProgress?.(run.name, progress, samples.at(-1)?.queueDepth ?? null),
    });
    if (run.target === 'events')
      await waitForDrain(producer, scenario.drainTimeoutMs ?? 120_000, adminToken);
  } finally {
    faultTimers.forEach(clearTimeout);
    sampling = false;
    await sampler;
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const after = await scrapeAll(target);
  const queueAfter = run.target === 'events' ? await queueCounts(producer, adminToken) : null;
  const delta = (service: ServiceName, name: string, labels: Record<string, string> = {}) =>
    after[service].sum(name, labels) - before[service].sum(name, labels);
  const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000));

  const maxLoopLagMs = round(Math.max(0, ...samples.map((sample) => sample.loopLagMs ?? 0)), 1);
  const runWarnings = [
    ...load.warnings,
    ...(maxLoopLagMs > 100
      ? [
          `a service's event loop stalled for up to ${maxLoopLagMs} ms (CPU contention on this machine): timeouts and breaker decisions in this run were shaped by it, not only by the policy`,
        ]
      : []),
  ];
  const common = {
    name: run.name,
    target: run.target,
    sent: load.sent,
    durationMs,
    outcomes: load.outcomes,
    warnings: runWarnings,
    series: load.series,
    samples,
    faultWindows,
    maxLoadFactor: round(Math.max(...samples.map((sample) => sample.loadFactor ?? 0))),
    maxLoopLagMs,
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
  const warnings = [...runWarnings];
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
    ms(quantileBetween(before.worker, after.worker, 'worker_end_to_end_duration_seconds', q));
  const processing = (q: number) =>
    ms(quantileBetween(before.worker, after.worker, 'worker_processing_duration_seconds', q));
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

/**
 * Runs every run of a scenario and summarises them: each on a fresh local stack, or with
 * `options.urls` one after another on a running stack that is reset between runs.
 */
export async function runExperiment(
  scenario: Scenario,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const startedAt = new Date().toISOString();
  const runs: RunSummary[] = [];
  const { urls } = options;
  let running: { stack: Omit<Target, 'idPrefix'>; baseline: Baseline; stamp: string } | undefined;
  if (urls) {
    const stack = { urls, workers: await replicasOf(urls.worker), adminToken: options.adminToken };
    running = { stack, baseline: await readBaseline(stack), stamp: Date.now().toString(36) };
  }
  for (const [index, run] of scenario.runs.entries()) {
    options.onRunStart?.(run, index);
    if (running) {
      const target = { ...running.stack, idPrefix: `${run.name}-${running.stamp}` };
      await resetStack(target, running.baseline);
      try {
        runs.push(await executeRun(scenario, run, target, options));
      } finally {
        await resetStack(target, running.baseline).catch(() => undefined);
      }
      continue;
    }
    const stack = await startStack({
      ...(scenario.seed !== undefined ? { seed: scenario.seed } : {}),
      queueName: `events-${run.name}`,
    });
    try {
      const target: Target = {
        urls: {
          downstream: stack.services.downstream.url,
          gateway: stack.services.gateway.url,
          producer: stack.services.producer.url,
          worker: stack.services.worker.url,
        },
        workers: [stack.services.worker.url],
        adminToken: stack.adminToken,
        idPrefix: run.name,
      };
      runs.push(await executeRun(scenario, run, target, options));
    } finally {
      await stack.stop();
    }
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
