import { type LoadProgress, runLoad } from '../generator.ts';
import type { LoadMetrics } from '../metrics.ts';
import { DrainTimeoutError, readQueueCounts, waitForDrain } from '../queue-counts.ts';
import type { Run, Scenario } from '../scenario.ts';
import { buildSchedule } from '../schedule.ts';
import type { RunSummary, Window } from './result.ts';
import { scrapeAll, startSampler } from './sampler.ts';
import { summariseRun } from './summarise.ts';
import type { Target } from './target.ts';

export interface RunHooks {
  onProgress?:
    ((run: string, progress: LoadProgress, queueDepth: number | null) => void) | undefined;
  /** The generator's counters for a `/metrics` endpoint (the measured load only, not the warm-up). */
  metrics?: LoadMetrics | undefined;
}

/** The scenario's fault timeline and load trigger as windows, ms after the load starts. */
export function windowsOf(scenario: Scenario): Window[] {
  return [
    ...(scenario.faults ?? []).map(({ at, durationMs, kind }) => ({
      startMs: at,
      endMs: at + durationMs,
      kind,
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
}

/** Applies the run's policy: the gateway's for rpc, the producer's and every worker's for events. */
async function applyPolicy(run: Run, target: Target): Promise<void> {
  const { admin, urls } = target;
  if (run.target === 'rpc') {
    await admin.put(`${urls.gateway}/admin/policy`, run.policy ?? {});
    return;
  }
  if (run.producer) await admin.put(`${urls.producer}/admin/policy`, run.producer);
  const workerPolicy = run.worker;
  if (workerPolicy)
    await Promise.all(
      target.workers.map((worker) => admin.put(`${worker}/admin/policy`, workerPolicy)),
    );
}

/**
 * One run on a target that is ready: model and policy applied, a warm-up, the policy
 * again (fresh breaker, bulkhead and windows), then the fault timeline and the measured
 * load while the system is sampled; for events until the queue has drained.
 */
export async function executeRun(
  scenario: Scenario,
  run: Run,
  target: Target,
  hooks: RunHooks = {},
): Promise<RunSummary> {
  const { admin, urls } = target;
  const adminToken = admin.adminToken;
  if (scenario.downstream)
    await admin.put(`${urls.downstream}/admin/faults`, { model: scenario.downstream });
  await applyPolicy(run, target);
  // Warm up connections and the JIT at a gentle rate, so a cold start is not what gets measured.
  const baseUrl = run.target === 'rpc' ? urls.gateway : urls.producer;
  await runLoad({
    target: run.target,
    baseUrl,
    offsetsMs: Array.from({ length: 40 }, (_, i) => i * 25),
    idPrefix: `warmup-${target.idPrefix}`,
  });
  if (run.target === 'events')
    await waitForDrain(urls.producer, { timeoutMs: 30_000, adminToken }).catch(() => undefined);
  await applyPolicy(run, target);

  const before = await scrapeAll(target);
  const queueBefore =
    run.target === 'events' ? await readQueueCounts(urls.producer, adminToken) : null;
  const startedAt = performance.now();
  const sampler = startSampler(
    target,
    run.target,
    before[run.target === 'rpc' ? 'gateway' : 'worker'],
  );
  const faultTimers = (scenario.faults ?? []).map(({ at, ...fault }) =>
    setTimeout(
      () =>
        void admin
          .put(`${urls.downstream}/admin/faults`, { faults: [fault] })
          .catch(() => undefined),
      at,
    ),
  );
  const warnings: string[] = [];
  let load;
  let samples;
  try {
    load = await runLoad({
      target: run.target,
      baseUrl,
      offsetsMs: buildSchedule(scenario.load),
      maxOutstanding: scenario.maxOutstanding ?? 10_000,
      idPrefix: target.idPrefix,
      ...(hooks.metrics ? { metrics: hooks.metrics } : {}),
      bucketMs: 100,
      onProgress: (progress) =>
        hooks.onProgress?.(run.name, progress, sampler.samples.at(-1)?.queueDepth ?? null),
    });
    if (run.target === 'events') {
      const timeoutMs = scenario.drainTimeoutMs ?? 120_000;
      await waitForDrain(urls.producer, { timeoutMs, adminToken }).catch((error: unknown) => {
        if (!(error instanceof DrainTimeoutError)) throw error;
        warnings.push(`${error.message} Jobs still queued count as lost.`);
      });
    }
  } finally {
    faultTimers.forEach(clearTimeout);
    // Stopped on every way out, or a failed run would leave it sampling forever.
    samples = await sampler.stop();
  }
  const durationMs = Math.round(performance.now() - startedAt);
  const after = await scrapeAll(target);
  const queueAfter =
    run.target === 'events' ? await readQueueCounts(urls.producer, adminToken) : null;
  return summariseRun({
    name: run.name,
    target: run.target,
    load,
    before,
    after,
    queueBefore,
    queueAfter,
    samples,
    faultWindows: windowsOf(scenario),
    durationMs,
    warnings,
  });
}
