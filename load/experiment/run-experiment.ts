import { availableParallelism } from 'node:os';
import type { Run, Scenario } from '../scenario.ts';
import { startStack } from '../stack.ts';
import { executeRun, type RunHooks } from './execute-run.ts';
import type { ExperimentResult, RunSummary } from './result.ts';
import { localTarget, RunningStack, type StackUrls } from './target.ts';
import { evaluateThresholds } from './thresholds.ts';

export interface ExperimentOptions extends RunHooks {
  onRunStart?: (run: Run, index: number) => void;
  /** Run against these running services (e.g. docker compose) instead of a fresh local stack per run. */
  urls?: StackUrls | undefined;
  /** The running stack's ADMIN_TOKEN, or the one a fresh stack's services get. */
  adminToken?: string | undefined;
  /** Where a fresh local stack's Redis comes from (unset: a redis-server of its own, or a container). */
  redisUrl?: string | undefined;
}

/**
 * Runs every run of a scenario and summarises them: each on a fresh local stack, or with
 * `options.urls` one after another on a running stack that is reset before and after each.
 */
export async function runExperiment(
  scenario: Scenario,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const startedAt = new Date().toISOString();
  const runs: RunSummary[] = [];
  const running = options.urls
    ? await RunningStack.connect(options.urls, options.adminToken)
    : undefined;
  for (const [index, run] of scenario.runs.entries()) {
    options.onRunStart?.(run, index);
    if (running) {
      await running.reset();
      try {
        runs.push(await executeRun(scenario, run, running.targetFor(run.name), options));
      } finally {
        await running.reset().catch(() => undefined);
      }
      continue;
    }
    const stack = await startStack({
      seed: scenario.seed,
      queueName: `events-${run.name}`,
      redisUrl: options.redisUrl,
      adminToken: options.adminToken,
    });
    try {
      runs.push(await executeRun(scenario, run, localTarget(stack, run.name), options));
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
