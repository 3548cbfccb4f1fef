import { readFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { type MergedLoad, mergeParts } from '../distributed/merge.ts';
import { PartError, parsePart, type SourcedPart } from '../distributed/part.ts';
import { ResultsStore, runIdPattern } from '../distributed/results-store.ts';
import { readScenario } from './experiment.ts';
import type { ExperimentResult, HttpRunSummary, RunSummary } from '../experiment/result.ts';
import { summariseDirect, summariseRun } from '../experiment/summarise.ts';
import { Scrape } from '../stack/prom-text.ts';
import type { Sample } from '../stack/prom-text.ts';
import { evaluateThresholds, parseThreshold } from '../experiment/thresholds.ts';
import { runnerClocks } from '../experiment/time-scale.ts';
import { formatNotes, formatThresholds, formatTable, writeSummary } from '../report/summary.ts';
import { type Scenario, thresholdsPerRow } from '../scenario/scenario.ts';

export const mergeHelp = `Usage:
  cascade-lab merge <result.json>... [--scenario FILE] [--threshold EXPR]... [--out DIR]
  cascade-lab merge --results-redis URL --run-id ID [--wait S] …

  Merges the results of the generators of one distributed run (cascade-lab load or
  experiment --segment i/n, to files or --results-redis): counts summed, latency histograms
  added, so the percentiles are exact; series on the shared clock; an experiment's run
  with the services' figures its segment 0 read. A missing or duplicated segment, or a
  result of another run, is an error that names it (exit 2). Prints the table, writes
  summary.json, summary.md and report.html to DIR (default reports/<name>-merged-<time>),
  and judges the thresholds on the merged run: the scenario's that name it (an
  experiment's parts carry their scenario; else --scenario FILE), and each --threshold
  (e.g. 'load.p99_ms < 250'). Exits 1 when one fails.

  --wait S       with --results-redis: wait up to S seconds for every segment (default 0)
`;

export interface MergeCommandOptions {
  files: string[];
  resultsRedis?: string | undefined;
  runId?: string | undefined;
  wait?: string | undefined;
  scenario?: string | undefined;
  thresholds?: string[] | undefined;
  outDir?: string | undefined;
}

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
      recoveryHoldMs: runnerClocks.recoveryHoldMs * k,
      timeScale: k,
    }),
    ...(first.target === 'http' ? {} : { loadTarget: first.target }),
    generators,
  });
  // An experiment's run: the coordinator's view of the services, with everyone's load.
  const runs: RunSummary[] = first.rows
    ? first.rows.map((row, index) => ({
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
  const shownScenario: Scenario = scenario ?? {
    name: first.name,
    description: `${generators.length} generators against ${first.url} (${first.target})`,
    load: (first.schedule.spec ?? {
      kind: 'constant',
      ratePerSecond: 1,
      durationMs: 1,
    }) as Scenario['load'],
    runs: [{ name: first.name, target: 'http' }],
  };
  return {
    scenario: shownScenario,
    timeScale: k,
    repeat: 1,
    startedAt: new Date(first.startAt ?? Date.now()).toISOString(),
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

/** `cascade-lab merge`: answers the exit code. */
export async function runMergeCommand(
  options: MergeCommandOptions,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const problems: string[] = [];
  const fromRedis = options.resultsRedis !== undefined;
  if (fromRedis === options.files.length > 0)
    problems.push('name the result files, or --results-redis URL --run-id ID (one of them)');
  if (fromRedis && (options.runId === undefined || !runIdPattern.test(options.runId)))
    problems.push('--run-id: the run id its generators wrote under (letters, digits, . _ -)');
  const waitS = Number(options.wait ?? 0);
  if (!Number.isFinite(waitS) || waitS < 0 || waitS > 86_400)
    problems.push(`--wait: seconds from 0 to 86400 (got "${options.wait}")`);
  for (const expression of options.thresholds ?? [])
    if (!parseThreshold(expression))
      problems.push(
        `--threshold: "${expression}" is not run.metric op number (e.g. load.p99_ms < 250)`,
      );
  if (problems.length > 0) {
    err(`cascade-lab merge: ${problems.join('\n  ')}\n\n${mergeHelp}`);
    return 2;
  }
  let scenario: Scenario | undefined;
  if (options.scenario !== undefined) {
    scenario = readScenario(options.scenario, err);
    if (!scenario) return 2;
  }
  let merged: MergedLoad;
  try {
    let parts: SourcedPart[];
    if (fromRedis) {
      const store = new ResultsStore(options.resultsRedis as string, options.runId as string);
      try {
        parts = await store.read(waitS * 1000, (have, want) =>
          err(`waiting for the generators' results: ${have} of ${want ?? '?'}\n`),
        );
      } finally {
        await store.close();
      }
    } else
      parts = options.files.map((file) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (error) {
          throw new PartError([`${file}: cannot read it (${(error as Error).message})`]);
        }
        return parsePart(text, file);
      });
    merged = mergeParts(parts);
  } catch (error) {
    if (!(error instanceof PartError)) throw error;
    err(`cascade-lab merge:\n${error.problems.map((line) => `  ${line}\n`).join('')}`);
    return 2;
  }
  const result = mergedExperiment(merged, scenario, options.thresholds ?? []);
  const dir =
    options.outDir ??
    path.join('reports', `${merged.first.name}-merged-${result.startedAt.replace(/[:.]/g, '-')}`);
  const files = writeSummary(result, dir);
  out(formatTable(result));
  out(formatNotes(result));
  if (result.thresholds.length > 0) out(`${formatThresholds(result)}\n`);
  for (const run of result.runs) for (const warning of run.warnings) out(`warning: ${warning}\n`);
  for (const generator of merged.generators)
    for (const warning of generator.warnings)
      out(`warning (generator ${generator.segment}): ${warning}\n`);
  out(`report: ${files.join(', ')}\n`);
  return result.thresholds.every((threshold) => threshold.passed) ? 0 : 1;
}
