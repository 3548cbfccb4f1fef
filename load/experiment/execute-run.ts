import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';
import { connectFor } from '../generator/pool.ts';
import { type LoadOptions, type LoadProgress } from '../generator/options.ts';
import { type LoadResult } from '../generator/recording.ts';
import { runLoad } from '../generator/generator.ts';
import { startLocalGenerators } from '../distributed/local-generators.ts';
import type { GeneratorShare } from '../distributed/merge.ts';
import { type Segment, segmentOf } from '../distributed/segment.ts';
import type { LoadMetrics } from '../generator/metrics.ts';
import { Scrape } from '../stack/prom-text.ts';
import { DrainTimeoutError, readQueueCounts, waitForDrain } from '../stack/queue-counts.ts';
import {
  maxOutstandingOf,
  type Run,
  type ServiceRun,
  Trigger,
  rowNames,
  type Scenario,
} from '../scenario/scenario.ts';
import {
  planRun,
  type RunPlan,
  runnerClocks,
  scaleBySchema,
  warmupOffsetsMs,
} from './time-scale.ts';
import { upstreamPath } from '../../services/shared/forward.ts';
import { buildSchedule, ScheduleSpec, spikeTrigger } from '../schedule/schedule.ts';
import type { RunSummary, Window } from './result.ts';
import { scrapeAll, startSampler } from './sampler.ts';
import { type RunObservations, summariseDirect, summariseRun } from './summarise.ts';
import { readSettings, type Target } from './target.ts';

/** A job's lock on a fresh stack whose run kills a worker: its jobs wait this long (wall time) for redelivery. */
export const killedWorkerLockMs = 2000;
/** The worker settings of such a stack: locks that lapse in 2 s, checked every second. */
export const killedWorkerEnv = {
  LOCK_DURATION_MS: String(killedWorkerLockMs),
  STALLED_INTERVAL_MS: '1000',
};

export interface RunHooks {
  onProgress?:
    ((run: string, progress: LoadProgress, queueDepth: number | null) => void) | undefined;
  /** The generator's counters for a `/metrics` endpoint (the measured load only, not the warm-up). */
  metrics?: LoadMetrics | undefined;
  /**
   * Send each run's measured load from this many local generator processes, each a
   * segment of the schedule on one clock, their results merged exactly. @defaultValue 1
   */
  generators?: number | undefined;
  /** One generator of a run split across machines (`experiment --segment i/n`). */
  segment?: SegmentHook | undefined;
}

/**
 * A generator of a distributed experiment: its share of the run's schedule and the shared
 * start. It hands over its share's result (with its histograms, for merge) and, when it
 * is the coordinator (segment 0, which sets up the stack, injects the faults and reads the
 * services), the run's observations, one per row.
 */
export interface SegmentHook {
  segment: Segment;
  startAt: number;
  onLoad(load: LoadResult): void;
  onRows?: (rows: Array<Omit<RunObservations, 'load'>>) => void;
}

/**
 * The arrivals this process's pool is opened for: only the warm-up when local generators
 * send the load (they open their own), its share when it is a segment, else the schedule.
 */
const pooledOffsets = (schedule: number[], hooks: RunHooks, timeScale: number) =>
  (hooks.generators ?? 1) > 1
    ? warmupOffsetsMs(timeScale)
    : hooks.segment
      ? segmentOf(schedule, hooks.segment.segment).offsetsMs
      : schedule;

/** The id prefix every generator of one distributed run shares. */
const segmentIdPrefix = (run: string, startAt: number) => `${run}-${startAt.toString(36)}`;

/** A measured load ready to go: in this process, or from local generator processes already connected. */
interface LaunchedLoad {
  run(): Promise<{ load: LoadResult; generators?: GeneratorShare[] }>;
  stop(): Promise<void>;
}

/**
 * With one generator, `runLoad` here on the run's pool; with n, n local processes (each
 * connected for its share before the clock starts) sending segment i/n each, merged.
 */
async function launchLoad(
  options: LoadOptions,
  name: string,
  count: number,
  holdMs: number,
  segment?: SegmentHook,
): Promise<LaunchedLoad> {
  if (segment) {
    const share = segmentOf(options.offsetsMs, segment.segment);
    const run = async () => {
      const load = await runLoad({
        ...options,
        offsetsMs: share.offsetsMs,
        indices: share.indices,
        startAt: segment.startAt,
        record: true,
      });
      segment.onLoad(load);
      return { load };
    };
    return { run, stop: async () => undefined };
  }
  if (count <= 1)
    return { run: async () => ({ load: await runLoad(options) }), stop: async () => undefined };
  // Each process opens its own connections and keeps its own counters.
  const local = await startLocalGenerators({
    ...options,
    pool: undefined,
    metrics: undefined,
    name,
    count,
    holdMs,
  });
  return {
    run: async () => {
      const merged = await local.run();
      return { load: merged.load, generators: merged.generators };
    },
    stop: () => local.stop(),
  };
}

/** The rows of a run whose load came from several generators say so, with each one's share. */
const withGenerators = <T extends RunSummary>(summary: T, generators?: GeneratorShare[]): T =>
  generators ? { ...summary, generators } : summary;

/** The plan's fault timeline and load trigger as windows, ms after the load starts (wall time). */
export function windowsOf(plan: Pick<RunPlan, 'faults' | 'trigger' | 'killWorker'>): Window[] {
  return [
    // Until its jobs' locks lapse (killedWorkerEnv), then they are redelivered.
    ...(plan.killWorker
      ? [
          {
            startMs: plan.killWorker.at,
            endMs: plan.killWorker.at + killedWorkerLockMs,
            kind: 'worker killed',
          },
        ]
      : []),
    ...plan.faults.map(({ at, durationMs, kind }) => ({
      startMs: at,
      endMs: at + durationMs,
      kind,
    })),
    ...(plan.trigger
      ? [
          {
            startMs: plan.trigger.at,
            endMs: plan.trigger.at + plan.trigger.durationMs,
            kind: 'load trigger',
          },
        ]
      : []),
  ];
}

/**
 * At the plan's time, the worker's last scrape kept (its counters still count), then
 * SIGKILL and a replacement, which gets the run's policy for its place.
 */
async function killWorkerAt(target: Target, plan: RunPlan, warnings: string[]): Promise<void> {
  const { at, index } = plan.killWorker!;
  if (!target.killWorker) throw new Error('killWorker needs a fresh local stack');
  await sleep(at);
  try {
    target.retiredWorkers.push(await Scrape.of(target.workers[index]!));
    const replacement = await target.killWorker(index);
    target.workers[index] = replacement;
    await target.admin.put(`${replacement}/admin/policy`, workerPolicyOf(plan, index));
  } catch (error) {
    warnings.push(`killing worker ${index} failed: ${(error as Error).message}`);
  }
}

/** Polls the downstream until it works on nothing; answers how many calls it still had at the deadline. */
async function waitForDownstreamIdle(downstreamUrl: string, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const inflight = (await Scrape.of(downstreamUrl)).sum('downstream_inflight_requests');
    if (inflight === 0 || performance.now() >= deadline) return inflight;
    await sleep(50);
  }
}

/** Applies the plan's model and the run's whole policies: the gateway's, or the producer's and every worker's. */
async function applyPlan(plan: RunPlan, target: Target): Promise<void> {
  const { admin, urls } = target;
  await admin.put(`${urls.downstream}/admin/faults`, { model: plan.model });
  if (plan.gateway) await admin.put(`${urls.gateway}/admin/policy`, plan.gateway);
  if (plan.producer) await admin.put(`${urls.producer}/admin/policy`, plan.producer);
  if (plan.worker)
    await Promise.all(
      target.workers.map((worker, index) =>
        admin.put(`${worker}/admin/policy`, workerPolicyOf(plan, index)),
      ),
    );
}

/** A topic's workers are its subscribers', in order (a fresh stack starts them so). */
const workerPolicyOf = (plan: RunPlan, index: number) =>
  plan.subscriberWorkers?.[index] ?? plan.worker;

/**
 * One run on a target that is ready, at time scale k: the run's settings expanded from
 * what the services have and scaled (planRun), a warm-up, the policy again (fresh
 * breaker, bulkhead and windows), then the fault timeline and the measured load while the
 * system is sampled; for events until the queue has drained. Reported in model time.
 */
export async function executeRun(
  scenario: Scenario,
  run: Run,
  target: Target,
  hooks: RunHooks = {},
  timeScale = 1,
): Promise<RunSummary[]> {
  // Nothing of the stack is used: `runExperiment` does not even start one for it.
  if (run.target === 'http') return [await executeDirectRun(scenario, run, hooks, timeScale)];
  const { urls } = target;
  const settings = await readSettings(target);
  const plan = planRun(scenario, run, timeScale, { ...settings, worker: settings.workers[0]! });
  await applyPlan(plan, target);
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  const schedule = buildSchedule(plan.load);
  const maxOutstanding = maxOutstandingOf(scenario);
  // A connection for each request the schedule can have in flight if answers take up to a
  // model second, open before the clock starts; then the JIT warmed at a gentle rate on
  // them, so a cold start is not what gets measured.
  const pool = await connectFor(baseUrl, pooledOffsets(schedule, hooks, timeScale), {
    maxOutstanding,
    holdMs: 1000 * timeScale,
  });
  try {
    await runLoad({
      ...loadTarget(scenario, run),
      baseUrl,
      pool,
      offsetsMs: plan.warmupOffsetsMs,
      idPrefix: `warmup-${target.idPrefix}`,
    });
    return await measureRun(scenario, run, target, plan, { pool, schedule, maxOutstanding }, hooks);
  } finally {
    await pool.close();
  }
}

/**
 * A run straight at the scenario's service (`target: http`): no stack and no faults (nothing
 * stands between the load and the service to inject them), the same schedule and warm-up
 * as every run, at the same time scale. What the load generator saw is all it reports.
 */
export async function executeDirectRun(
  scenario: Scenario,
  run: Extract<Run, { target: 'http' }>,
  hooks: RunHooks = {},
  timeScale = 1,
): Promise<RunSummary> {
  const service = scenario.service;
  if (!service)
    throw new Error(`run ${run.name} goes straight to the scenario's service, and it has none`);
  const url = new URL(service.url);
  const request = { ...service.request, path: upstreamPath(url, service.request.path ?? '/') };
  const k = timeScale;
  const schedule = buildSchedule(scaleBySchema(ScheduleSpec, scenario.load, k));
  const maxOutstanding = maxOutstandingOf(scenario);
  const count = hooks.generators ?? 1;
  const pool = await connectFor(url.origin, pooledOffsets(schedule, hooks, k), {
    maxOutstanding,
    holdMs: 1000 * k,
  });
  let launched: LaunchedLoad | undefined;
  try {
    const common = { target: 'http' as const, baseUrl: url.origin, request, pool };
    await runLoad({
      ...common,
      offsetsMs: warmupOffsetsMs(k),
      idPrefix: `warmup-${run.name}`,
    });
    launched = await launchLoad(
      {
        ...common,
        offsetsMs: schedule,
        maxOutstanding,
        idPrefix: `${run.name}-${Date.now().toString(36)}`,
        timeScale: k,
        ...(hooks.metrics ? { metrics: hooks.metrics } : {}),
        bucketMs: runnerClocks.bucketMs * k,
        onProgress: (progress) => hooks.onProgress?.(run.name, progress, null),
      },
      run.name,
      count,
      1000 * k,
      hooks.segment,
    );
    const startedAt = performance.now();
    const { load, generators } = await launched.run();
    const trigger = scenario.trigger ?? spikeTrigger(scenario.load);
    const summary = summariseDirect({
      name: run.name,
      load,
      durationMs: Math.round(performance.now() - startedAt),
      // Only the load's own trigger: the scenario's faults are injected by the proxy, which
      // this run does not go through.
      faultWindows: windowsOf({
        faults: [],
        ...(trigger ? { trigger: scaleBySchema(Trigger, trigger, k) } : {}),
      }),
      recoveryHoldMs: runnerClocks.recoveryHoldMs * k,
      timeScale: k,
    });
    return withGenerators(summary, generators);
  } finally {
    await launched?.stop();
    await pool.close();
  }
}

/**
 * What a run's load asks: `/rpc` of the gateway, `/events` of the producer, or, with the
 * scenario's own service, its request through the gateway's `/proxy` route.
 */
function loadTarget(scenario: Scenario, run: ServiceRun): Pick<LoadOptions, 'target' | 'request'> {
  const service = scenario.service;
  if (!service || run.target !== 'rpc') return { target: run.target };
  return {
    target: 'http',
    request: { ...service.request, path: `/proxy${service.request.path ?? '/'}` },
  };
}

/** After the warm-up: the queue drained and the policy set again, then the fault timeline and the load while the system is sampled. */
async function measureRun(
  scenario: Scenario,
  run: ServiceRun,
  target: Target,
  plan: RunPlan,
  load: { pool: Pool; schedule: number[]; maxOutstanding: number },
  hooks: RunHooks,
): Promise<RunSummary[]> {
  const { admin, urls } = target;
  const adminToken = admin.adminToken;
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  const timeScale = plan.timeScale;
  if (run.target === 'events')
    await waitForDrain(urls.producer, { timeoutMs: 30_000 * timeScale, adminToken }).catch(
      () => undefined,
    );
  await applyPlan(plan, target);
  // The warm-up's calls still being worked on would be counted as the run's.
  const warnings: string[] = [];
  const leftover = await waitForDownstreamIdle(urls.downstream, 5000 * timeScale);
  if (leftover > 0)
    warnings.push(
      `${leftover} downstream calls from before the run (the warm-up, or an earlier run on this stack) were still in flight when it started: the run began in their load, and its figures count their work`,
    );

  const before = await scrapeAll(target);
  const queueBefore =
    run.target === 'events' ? await readQueueCounts(urls.producer, adminToken) : null;
  // Spawned and connected before the clock starts (with one generator, nothing to do).
  const launched = await launchLoad(
    {
      ...loadTarget(scenario, run),
      baseUrl,
      pool: load.pool,
      offsetsMs: load.schedule,
      maxOutstanding: load.maxOutstanding,
      // Every generator of a distributed run alike: ids differ by the arrival's number.
      idPrefix: hooks.segment ? segmentIdPrefix(run.name, hooks.segment.startAt) : target.idPrefix,
      timeScale,
      ...(hooks.metrics ? { metrics: hooks.metrics } : {}),
      bucketMs: plan.bucketMs,
      onProgress: (progress) =>
        hooks.onProgress?.(run.name, progress, sampler.samples.at(-1)?.queueDepth ?? null),
    },
    run.name,
    hooks.generators ?? 1,
    1000 * timeScale,
    hooks.segment,
  );
  if (hooks.segment) {
    // The coordinator's clock (faults, samples) starts at the shared start, with the load.
    const aheadMs = hooks.segment.startAt - Date.now();
    if (aheadMs > 0) await sleep(aheadMs);
    else
      warnings.push(
        `the stack was ready ${-aheadMs} ms after the shared start: the other generators' load began before the faults and samples did; give a later --start-at`,
      );
  }
  const startedAt = performance.now();
  const sampler = startSampler(
    target,
    run.target,
    before[run.target === 'rpc' ? 'gateway' : 'worker'],
    plan.sampleEveryMs,
  );
  const faultTimers = plan.faults.map(({ at, ...fault }) =>
    setTimeout(
      () =>
        void admin
          .put(`${urls.downstream}/admin/faults`, { faults: [fault] })
          .catch(() => undefined),
      at,
    ),
  );
  const killing = plan.killWorker && killWorkerAt(target, plan, warnings);
  let result;
  let generators: GeneratorShare[] | undefined;
  let samples;
  let endedAt: number;
  try {
    ({ load: result, generators } = await launched.run());
    if (run.target === 'events') {
      // A kill planned after the last request still happens, before the queue is judged.
      await killing;
      await waitForDrain(urls.producer, { timeoutMs: plan.drainTimeoutMs, adminToken }).catch(
        (error: unknown) => {
          if (!(error instanceof DrainTimeoutError)) throw error;
          warnings.push(`${error.message} Jobs still queued count as lost.`);
        },
      );
    }
    endedAt = performance.now();
  } finally {
    faultTimers.forEach(clearTimeout);
    // Stopped on every way out, or a failed run would leave it sampling forever.
    samples = await sampler.stop();
    await launched.stop();
  }
  // Ended with the last answer (events: the drained queue), not when the sampler noticed.
  const durationMs = Math.round(endedAt - startedAt);
  // Work a caller gave up on goes on in the downstream: counted once it is done (its calls,
  // and the duplicate effects it makes), so read the counters when nothing is in flight.
  const stillInFlight = await waitForDownstreamIdle(urls.downstream, 5000 * timeScale);
  if (stillInFlight > 0)
    warnings.push(
      `${stillInFlight} downstream calls were still in flight ${5 * timeScale} s after the run (hung?): the downstream's figures leave them out`,
    );
  const after = await scrapeAll(target);
  const queueAfter =
    run.target === 'events' ? await readQueueCounts(urls.producer, adminToken) : null;
  const subscribers = run.target === 'events' ? (run.subscribers ?? []) : [];
  const observations = {
    name: run.name,
    target: run.target,
    load: result,
    before,
    after,
    queueBefore,
    queueAfter,
    samples,
    faultWindows: windowsOf(plan),
    durationMs,
    warnings,
    recoveryHoldMs: plan.recoveryHoldMs,
    timeScale,
    baseLatencyMs: plan.model.baseLatencyMs,
    perAttemptTimeoutMs: (plan.gateway ?? plan.worker)?.perAttemptTimeoutMs,
  };
  const rows: RunObservations[] =
    subscribers.length === 0
      ? [observations]
      : subscribers.map(({ name }, index) => ({
          ...observations,
          name: rowNames(run)[index]!,
          subscriber: name,
          perAttemptTimeoutMs: (plan.subscriberWorkers?.[index] ?? plan.worker)
            ?.perAttemptTimeoutMs,
        }));
  hooks.segment?.onRows?.(rows.map(({ load: _load, ...row }) => row));
  return rows.map((row, index) =>
    withGenerators(
      // One load for every subscriber: its warnings once, on the first row.
      summariseRun(index === 0 ? row : { ...row, load: { ...row.load, warnings: [] } }),
      generators,
    ),
  );
}

/**
 * A generator of a distributed experiment other than the coordinator, on a running
 * stack: its share of the run's schedule at the shared start, and nothing else (the
 * coordinator sets the stack up, injects the faults and reads the services).
 */
export async function executeSegment(
  scenario: Scenario,
  run: ServiceRun,
  urls: { gateway: string; producer: string },
  segment: SegmentHook,
  timeScale = 1,
): Promise<LoadResult> {
  const schedule = buildSchedule(scaleBySchema(ScheduleSpec, scenario.load, timeScale));
  const share = segmentOf(schedule, segment.segment);
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  const maxOutstanding = maxOutstandingOf(scenario);
  const pool = await connectFor(baseUrl, share.offsetsMs, {
    maxOutstanding,
    holdMs: 1000 * timeScale,
  });
  try {
    const launched = await launchLoad(
      {
        ...loadTarget(scenario, run),
        baseUrl,
        pool,
        offsetsMs: schedule,
        maxOutstanding,
        idPrefix: segmentIdPrefix(run.name, segment.startAt),
        timeScale,
        bucketMs: runnerClocks.bucketMs * timeScale,
      },
      run.name,
      1,
      1000 * timeScale,
      segment,
    );
    return (await launched.run()).load;
  } finally {
    await pool.close();
  }
}
