import { setTimeout as sleep } from 'node:timers/promises';
import type { WirePool } from '../generator/wire-pool.ts';
import type { GeneratorShare } from '../distributed/merge.ts';
import { DrainTimeoutError, readQueueCounts, waitForDrain } from '../stack/queue-counts.ts';
import { type ServiceRun, rowNames } from '../scenario/runs.ts';
import { type Scenario } from '../scenario/shape.ts';
import { type RunPlan } from './time-scale.ts';
import type { RunSummary } from './result.ts';
import { scrapeAll, startSampler } from './sampler.ts';
import { type RunObservations } from './observations.ts';
import { summariseRun } from './summarise.ts';
import { type Target } from './target.ts';
import { loadTarget, launchLoad, withGenerators } from './launch-load.ts';
import { applyPlan, killWorkerAt, waitForDownstreamIdle, windowsOf } from './run-actions.ts';
import { connectionHoldMs, type RunHooks, segmentIdPrefix } from './run-hooks.ts';
import { closedLoopOf } from '../schedule/schedule.ts';
import { timed } from './timings.ts';

/** After the warm-up: the queue drained and the policy set again, then the fault timeline and the load while the system is sampled. */
export async function measureRun(
  scenario: Scenario,
  run: ServiceRun,
  target: Target,
  plan: RunPlan,
  load: { pool: WirePool; schedule: number[]; maxOutstanding: number },
  hooks: RunHooks,
): Promise<RunSummary[]> {
  const { admin, urls } = target;
  const adminToken = admin.adminToken;
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  const timeScale = plan.timeScale;
  const timings = hooks.timings;
  const warnings: string[] = [];
  await timed(timings, 'settle', async () => {
    if (run.target === 'events')
      await waitForDrain(urls.producer, { timeoutMs: 30_000 * timeScale, adminToken }).catch(
        () => undefined,
      );
    await applyPlan(plan, target);
    // The warm-up's calls still being worked on would be counted as the run's.
    const leftover = await waitForDownstreamIdle(urls.downstream, 5000 * timeScale);
    if (leftover > 0)
      warnings.push(
        `${leftover} downstream calls from before the run (the warm-up, or an earlier run on this stack) were still in flight when it started: the run began in their load, and its figures count their work`,
      );
  });
  const [before, queueBefore] = await timed(timings, 'scrape', () =>
    Promise.all([
      scrapeAll(target),
      run.target === 'events' ? readQueueCounts(urls.producer, adminToken) : null,
    ]),
  );
  // Spawned and connected before the clock starts (with one generator, nothing to do).
  const launched = await launchLoad(
    {
      ...loadTarget(scenario, run),
      baseUrl,
      pool: load.pool,
      offsetsMs: load.schedule,
      closed: closedLoopOf(plan.load),
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
    connectionHoldMs(run.target, timeScale),
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
    ({ load: result, generators } = await timed(timings, 'run', () => launched.run()));
    if (run.target === 'events')
      await timed(timings, 'drain', async () => {
        // A kill planned after the last request still happens, before the queue is judged.
        await killing;
        await waitForDrain(urls.producer, { timeoutMs: plan.drainTimeoutMs, adminToken }).catch(
          (error: unknown) => {
            if (!(error instanceof DrainTimeoutError)) throw error;
            warnings.push(`${error.message} Jobs still queued count as lost.`);
          },
        );
      });
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
  const { stillInFlight, after, queueAfter } = await timed(timings, 'scrape', async () => {
    const idle = await waitForDownstreamIdle(urls.downstream, 5000 * timeScale);
    const [scraped, counts] = await Promise.all([
      scrapeAll(target),
      run.target === 'events' ? readQueueCounts(urls.producer, adminToken) : null,
    ]);
    return { stillInFlight: idle, after: scraped, queueAfter: counts };
  });
  if (stillInFlight > 0)
    warnings.push(
      `${stillInFlight} downstream calls were still in flight ${5 * timeScale} s after the run (hung?): the downstream's figures leave them out`,
    );
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
    recoveryRule: plan.recoveryRule,
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
