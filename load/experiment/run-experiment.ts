import { availableParallelism } from 'node:os';
import { type Scenario } from '../scenario/shape.ts';
import { autoStartScale, chooseTimeScale } from './choose-scale.ts';
import { onTopic } from '../scenario/scenario.ts';
import { type Run, rowNames, thresholdsPerRow } from '../scenario/runs.ts';
import { executeDirectRun, executeRun } from './execute-run.ts';
import type { RunHooks } from './run-hooks.ts';
import { RunStacks, type RunStacksOptions, type StackMode } from './run-stacks.ts';
import { combineRepeats, compareRuns } from './repeats.ts';
import type { ExperimentResult, RunSummary, TimeScaleChoice } from './result.ts';
import { evaluateThresholds } from './thresholds.ts';

export interface ExperimentOptions extends RunHooks, RunStacksOptions {
  /** `repeat` counts from 0; `timeScale` is the scale it runs at. */
  onRunStart?: (run: Run, index: number, repeat: number, timeScale: number) => void;
  /** How the runs get their stack, once it is known (before the first run). */
  onStacks?: (mode: StackMode) => void;
  /** A line for the user about how the experiment runs (e.g. on a running stack's topic). */
  onNote?: (text: string) => void;
  /** Override the scenario's `timeScale` and `repeat`. */
  timeScale?: number | 'auto' | undefined;
  repeat?: number | undefined;
}

/**
 * Runs every run of a scenario and summarises them, on the stacks RunStacks gives them (one
 * local stack reset between runs, a fresh one per run, or a running one), one after another.
 * With repeats the runs are interleaved (A1 B1 A2 B2 …) so drift hits all alike (on fresh
 * stacks repeat i with seed + i); with `timeScale: auto` the first run's probes pick the scale
 * (choose-scale.ts), and the probe at the chosen one is that run's first repeat.
 */
export async function runExperiment(
  scenario: Scenario,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  const startedAt = new Date().toISOString();
  const stacks = await RunStacks.open(scenario, options);
  if (stacks.subscribers.length > 0) {
    options.onNote?.(
      `the running stack publishes to a topic with subscribers ${stacks.subscribers.join(', ')}: every events run gets a row per subscriber\n`,
    );
    scenario = onTopic(scenario, stacks.subscribers);
  }
  options.onStacks?.(stacks.mode);
  /** One summary per row: one, or one per subscriber of a topic run. */
  const runOnce = async (run: Run, repeat: number, timeScale: number): Promise<RunSummary[]> =>
    // Straight at the scenario's service: no stack is started or reset for it.
    run.target === 'http'
      ? [await executeDirectRun(scenario, run, options, timeScale)]
      : stacks.use(run, repeat, (target) => executeRun(scenario, run, target, options, timeScale));
  try {
    return await runAll(scenario, options, runOnce, startedAt);
  } finally {
    await stacks.close();
  }
}

async function runAll(
  scenario: Scenario,
  options: ExperimentOptions,
  runOnce: (run: Run, repeat: number, timeScale: number) => Promise<RunSummary[]>,
  startedAt: string,
): Promise<ExperimentResult> {
  const asked = options.timeScale ?? scenario.timeScale ?? 1;
  let choice: TimeScaleChoice | undefined;
  let timeScale = asked === 'auto' ? autoStartScale : asked;
  /** The first run's first repeat, when auto's probe at the chosen scale was it. */
  let probed: RunSummary[] | undefined;
  if (asked === 'auto') {
    const chosen = await chooseTimeScale(scenario.runs[0]!, (run, k) => {
      options.onRunStart?.(run, 0, -1, k);
      return runOnce(run, 0, k);
    });
    choice = chosen.choice;
    timeScale = choice.timeScale;
    probed = chosen.probes.get(timeScale);
  }

  const repeat = options.repeat ?? scenario.repeat ?? 1;
  // Every row's repeats, rows in the order of the runs (a topic run's subscribers in theirs).
  const perRow = new Map(scenario.runs.flatMap(rowNames).map((row) => [row, [] as RunSummary[]]));
  for (let i = 0; i < repeat; i += 1)
    for (const [index, run] of scenario.runs.entries()) {
      const reused = i === 0 && index === 0 ? probed : undefined;
      if (!reused) options.onRunStart?.(run, index, i, timeScale);
      for (const summary of reused ?? (await runOnce(run, i, timeScale)))
        perRow.get(summary.name)!.push(summary);
    }
  const seed = scenario.seed ?? 1;
  const runs = [...perRow.values()].map((repeats) => combineRepeats(repeats, seed));
  return {
    scenario,
    timeScale,
    ...(choice ? { timeScaleChoice: choice } : {}),
    repeat,
    startedAt,
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
    },
    runs,
    comparisons: compareRuns(runs, seed),
    thresholds: evaluateThresholds(
      thresholdsPerRow(scenario.runs, scenario.thresholds ?? []),
      runs,
      seed,
    ),
  };
}
