import { availableParallelism } from 'node:os';
import type { MergedLoad } from '../distributed/merge.ts';
import { type Scenario } from '../scenario/shape.ts';
import { thresholdsPerRow } from '../scenario/runs.ts';
import { parseThreshold } from '../scenario/thresholds.ts';
import { type Sample, Scrape } from '../stack/prom-text.ts';
import type { ExperimentResult, HttpRunSummary, RunSummary } from './result.ts';
import { type RunObservations } from './observations.ts';
import { summariseDirect, summariseRun } from './summarise.ts';
import { evaluateThresholds } from './thresholds.ts';
import { recoveryRuleOf } from './time-scale.ts';

/**
 * The merged run as an experiment of one run, measured at the generators only (the
 * services' own counts are not part of a load run: `-` in the table), so it gets the same
 * table, summary and report as any run.
 */
export function mergedExperiment(
  merged: MergedLoad,
  scenario: Scenario | undefined,
  extraThresholds: string[],
): ExperimentResult {
  const { first, load, generators } = merged;
  const k = first.timeScale;
  scenario ??= first.scenario;
  const direct = (): HttpRunSummary => ({
    ...summariseDirect({
      name: first.name,
      load,
      durationMs: load.durationMs,
      faultWindows: [],
      recoveryRule: recoveryRuleOf(scenario ?? {}, k),
      timeScale: k,
    }),
    ...(first.target === 'http' ? {} : { loadTarget: first.target }),
    generators,
  });
  // An experiment's run: the coordinator's view of the services, with everyone's load.
  // The coordinator's rows, as split-run.ts wrote them (the part's schema checked their shape).
  const rows = first.rows as Array<Omit<RunObservations, 'load'>> | undefined;
  const runs: RunSummary[] = rows
    ? rows.map((row, index) => ({
        ...summariseRun({
          ...row,
          before: revive(row.before),
          after: revive(row.after),
          // One load for every subscriber: its warnings once, on the first row.
          load: index === 0 ? load : { ...load, warnings: [] },
        }),
        generators,
      }))
    : [direct()];
  const names = new Set(runs.map((run) => run.name));
  const ofThisRun = (expression: string) => {
    const parsed = parseThreshold(expression);
    return (
      parsed !== undefined &&
      names.has(parsed.run) &&
      (!parsed.other || names.has(parsed.other.run))
    );
  };
  const expressions = [
    ...(scenario ? thresholdsPerRow(scenario.runs, scenario.thresholds ?? []) : []).filter(
      ofThisRun,
    ),
    ...extraThresholds,
  ];
  // What it can say of a load run's parts, and `unknown` for what they do not carry.
  const shownScenario: ExperimentResult['scenario'] = scenario ?? {
    name: first.name,
    description: `${generators.length} generators against ${first.url} (${first.target})`,
    load: (first.schedule.spec as Scenario['load'] | undefined) ?? 'unknown',
    runs: [{ name: first.name, target: 'http' }],
  };
  return {
    scenario: shownScenario,
    timeScale: k,
    repeat: 1,
    startedAt: first.startAt === null ? 'unknown' : new Date(first.startAt).toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
    },
    runs,
    comparisons: [],
    thresholds: evaluateThresholds(expressions, runs, scenario?.seed ?? 1),
  };
}

/** Scrapes as a part carries them (JSON), as the summary reads them. */
const revive = <K extends string>(scrapes: Record<K, { samples: unknown[] }>) =>
  Object.fromEntries(
    Object.entries<{ samples: unknown[] }>(scrapes).map(([service, { samples }]) => [
      service,
      new Scrape(samples as Sample[]),
    ]),
  ) as Record<K, Scrape>;
