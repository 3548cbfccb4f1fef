import { connectFor } from '../generator/pool.ts';
import { type LoadResult } from '../generator/recording.ts';
import { runLoad } from '../generator/generator.ts';
import { segmentOf } from '../distributed/segment.ts';
import { maxOutstandingOf, Trigger, type Scenario } from '../scenario/shape.ts';
import { type Run, type ServiceRun } from '../scenario/runs.ts';
import { planRun, recoveryRuleOf, runnerClocks, scaleBySchema, warmupLoad } from './time-scale.ts';
import { timed } from './timings.ts';
import { upstreamPath } from '../../services/shared/forward.ts';
import { buildSchedule, closedLoopOf, ScheduleSpec, spikeTrigger } from '../schedule/schedule.ts';
import type { RunSummary } from './result.ts';
import { summariseDirect } from './summarise.ts';
import { readSettings, type Target } from './target.ts';
import { type LaunchedLoad, launchLoad, loadTarget, withGenerators } from './launch-load.ts';
import { windowsOf } from './run-actions.ts';
import { measureRun } from './measure-run.ts';
import { applyPlan } from './run-actions.ts';
import {
  connectionHoldMs,
  pooledOffsets,
  type RunHooks,
  segmentIdPrefix,
  type SegmentHook,
} from './run-hooks.ts';

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
  // model second, open before the clock starts, and as many of the gateway's to the
  // downstream (it keeps its pool's size at most); then the JIT warmed on them, so a cold
  // start is not what gets measured.
  const pool = await timed(hooks.timings, 'warm-up', async () => {
    const opened = await connectFor(baseUrl, pooledOffsets(schedule, hooks), {
      maxOutstanding,
      holdMs: connectionHoldMs(run.target, timeScale),
    });
    if (run.target === 'rpc')
      await target.admin.post(`${urls.gateway}/admin/warm`, {
        connections: Math.max(1, Math.min(opened.openConnections, 10_000)),
      });
    await runLoad({
      ...loadTarget(scenario, run),
      baseUrl,
      pool: opened,
      ...warmupLoad(schedule),
      idPrefix: `warmup-${target.idPrefix}`,
    });
    return opened;
  });
  try {
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
  const loadSpec = scaleBySchema(ScheduleSpec, scenario.load, k);
  const schedule = buildSchedule(loadSpec);
  const maxOutstanding = maxOutstandingOf(scenario);
  const count = hooks.generators ?? 1;
  const common = { target: 'http' as const, baseUrl: url.origin, request };
  const pool = await timed(hooks.timings, 'warm-up', async () => {
    const opened = await connectFor(url.origin, pooledOffsets(schedule, hooks), {
      maxOutstanding,
      holdMs: connectionHoldMs('http', k),
    });
    await runLoad({
      ...common,
      pool: opened,
      ...warmupLoad(schedule),
      idPrefix: `warmup-${run.name}`,
    });
    return opened;
  });
  let launched: LaunchedLoad | undefined;
  try {
    const started = await launchLoad(
      {
        ...common,
        pool,
        offsetsMs: schedule,
        closed: closedLoopOf(loadSpec),
        maxOutstanding,
        idPrefix: `${run.name}-${Date.now().toString(36)}`,
        timeScale: k,
        ...(hooks.metrics ? { metrics: hooks.metrics } : {}),
        bucketMs: runnerClocks.bucketMs * k,
        onProgress: (progress) => hooks.onProgress?.(run.name, progress, null),
      },
      run.name,
      count,
      connectionHoldMs('http', k),
      hooks.segment,
    );
    launched = started;
    const startedAt = performance.now();
    const { load, generators } = await timed(hooks.timings, 'run', () => started.run());
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
      recoveryRule: recoveryRuleOf(scenario, k),
      timeScale: k,
    });
    return withGenerators(summary, generators);
  } finally {
    await launched?.stop();
    await pool.close();
  }
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
  const loadSpec = scaleBySchema(ScheduleSpec, scenario.load, timeScale);
  const schedule = buildSchedule(loadSpec);
  const share = segmentOf(schedule, segment.segment);
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  const maxOutstanding = maxOutstandingOf(scenario);
  const pool = await connectFor(baseUrl, share.offsetsMs, {
    maxOutstanding,
    holdMs: connectionHoldMs(run.target, timeScale),
  });
  try {
    const launched = await launchLoad(
      {
        ...loadTarget(scenario, run),
        baseUrl,
        pool,
        offsetsMs: schedule,
        closed: closedLoopOf(loadSpec),
        maxOutstanding,
        idPrefix: segmentIdPrefix(run.name, segment.startAt),
        timeScale,
        bucketMs: runnerClocks.bucketMs * timeScale,
      },
      run.name,
      1,
      connectionHoldMs(run.target, timeScale),
      segment,
    );
    return (await launched.run()).load;
  } finally {
    await pool.close();
  }
}
