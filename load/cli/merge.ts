import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type MergedLoad, mergeParts } from '../distributed/merge.ts';
import { PartError, parsePart, type SourcedPart } from '../distributed/part.ts';
import { ResultsStore, runIdPattern } from '../distributed/results-store.ts';
import { defineCommand, type Io } from './command.ts';
import { readScenario } from './run-options.ts';
import { printResult } from '../report/print.ts';
import { endProgress, showProgress } from '../report/progress.ts';
import { mergedExperiment } from '../experiment/merged-run.ts';
import { parseThreshold } from '../scenario/thresholds.ts';
import { writeSummary } from '../report/write.ts';
import { type Scenario } from '../scenario/shape.ts';

export interface MergeCommandOptions {
  files: string[];
  resultsRedis?: string | undefined;
  runId?: string | undefined;
  wait?: string | undefined;
  scenario?: string | undefined;
  thresholds?: string[] | undefined;
  outDir?: string | undefined;
}

/** `cascade-lab merge`: answers the exit code. */
export async function runMergeCommand(
  options: MergeCommandOptions,
  { out, err, interactive }: Io,
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
    err(problems.map((problem) => `cascade-lab merge: ${problem}\n`).join(''));
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
          showProgress(
            err,
            interactive,
            `waiting for the generators' results: ${have} of ${want ?? '?'}`,
          ),
        );
        endProgress(err, interactive);
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
    path.join(
      'reports',
      `${merged.first.name}-merged-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    );
  return printResult(result, writeSummary(result, dir), out);
}

export const mergeCommand = defineCommand({
  name: 'merge',
  usage: [
    'merge <result.json>... [--scenario FILE] [--threshold EXPR]... [--out DIR]',
    'merge --results-redis URL --run-id ID [--wait S] …',
  ],
  summary: "the parts of a distributed run's generators merged: exact percentiles, one report",
  description:
    "Merges the results of the generators of one distributed run (cascade-lab load or experiment --segment i/n, to files or --results-redis): counts summed, latency histograms added, so the percentiles are exact; series on the shared clock; an experiment's run with the services' figures its segment 0 read. A missing or duplicated segment, or a result of another run, is an error that names it (exit 2). Prints the table, writes summary.json, summary.md and report.html, and judges the thresholds on the merged run: the scenario's that name it (an experiment's parts carry their scenario; else --scenario FILE), and each --threshold. Exits 1 when one fails.",
  flags: {
    'results-redis': {
      type: 'string',
      value: 'URL',
      help: 'read the parts from this Redis, where the generators wrote them under --run-id',
    },
    'run-id': { type: 'string', value: 'ID', help: 'the run id the generators wrote under' },
    wait: {
      type: 'string',
      value: 'S',
      help: 'with --results-redis: wait up to S seconds for every segment (default 0)',
    },
    scenario: {
      type: 'string',
      value: 'FILE',
      help: "the scenario whose thresholds judge a load run's merge (an experiment's parts carry theirs)",
    },
    threshold: {
      type: 'string',
      value: 'EXPR',
      multiple: true,
      help: "a threshold on the merged run, e.g. 'load.p99_ms < 250'",
    },
    out: {
      type: 'string',
      value: 'DIR',
      help: 'where the report goes (default reports/<name>-merged-<time>)',
    },
  },
  args: { min: 0, max: Number.POSITIVE_INFINITY },
  run: ({ values, args, io }) =>
    runMergeCommand(
      {
        files: args,
        resultsRedis: values['results-redis'],
        runId: values['run-id'],
        wait: values.wait,
        scenario: values.scenario,
        thresholds: values.threshold,
        outDir: values.out,
      },
      io,
    ),
});
