import path from 'node:path';
import { timed, Timings } from '../experiment/timings.ts';
import { defineCommand, type Io } from './command.ts';
import { parseManyRunFlags, readScenario, runFlags, runOptionsOf } from './run-options.ts';
import { clock, progressLine, showProgress } from '../report/progress.ts';
import { formatSweep, sweepNotes } from '../sweep/report.ts';
import { writeSweepReport } from '../sweep/page.ts';
import { runSweep, SweepError, type SweepProgress } from '../sweep/run-sweep.ts';
import { cellLabel } from '../sweep/grid.ts';
import { type SweepField, sweepFieldProblems } from '../scenario/sweep-spec.ts';

/** `PATH=a,b,c` or `PATH=from..to:steps` → a swept field, or the problem with it. */
export function parseFieldArg(text: string): { field?: SweepField; problem?: string } {
  const match = /^([^=]+)=(.+)$/.exec(text);
  if (!match) return { problem: `--field: "${text}" is not PATH=VALUES` };
  const [, fieldPath, list] = match as unknown as [string, string, string];
  const range = /^(-?[0-9.]+)\.\.(-?[0-9.]+):([0-9]+)$/.exec(list);
  if (range) {
    const [from, to, steps] = range.slice(1).map(Number) as [number, number, number];
    if (![from, to].every(Number.isFinite) || !Number.isInteger(steps) || steps < 2 || steps > 20)
      return { problem: `--field ${fieldPath}: a range is from..to:steps, with 2 to 20 steps` };
    return { field: { path: fieldPath, range: { from, to, steps } } };
  }
  const values = list.split(',').map((value) => {
    const number = Number(value);
    if (value.trim() !== '' && Number.isFinite(number)) return number;
    if (value === 'true' || value === 'false') return value === 'true';
    return value;
  });
  if (values.some((value) => value === '') || values.length > 20)
    return { problem: `--field ${fieldPath}: give 1 to 20 values, separated by commas` };
  return { field: { path: fieldPath, values } };
}

export interface SweepCommandOptions {
  outDir?: string | undefined;
  fields?: string[] | undefined;
  urls?: string | undefined;
  adminToken?: string | undefined;
  redisUrl?: string | undefined;
  /** A Redis Cluster for them instead (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string | undefined;
  timeScale?: string | undefined;
  repeat?: string | undefined;
  freshStacks?: boolean | undefined;
  /** Print the wall time of each phase at the end. */
  timings?: boolean | undefined;
}

export function formatSweepProgress(p: SweepProgress): string {
  return `[${p.done}/${p.total} cells done] cell ${p.position}: ${cellLabel(p.cell)} · ${p.run.name}${p.repeats > 1 ? ` repeat ${p.repeat + 1}/${p.repeats}` : ''} · ${clock(p.elapsedMs)} elapsed, about ${clock(p.leftMs)} left`;
}

/** `cascade-lab sweep`: answers the exit code. */
export async function runSweepCommand(
  file: string,
  options: SweepCommandOptions,
  { out, err, interactive }: Io,
): Promise<number> {
  const flags = parseManyRunFlags(options, 'in every cell');
  const { urls, problems } = flags;
  const parsedFields = (options.fields ?? []).map(parseFieldArg);
  problems.push(...parsedFields.flatMap((parsed) => (parsed.problem ? [parsed.problem] : [])));
  const fields = parsedFields.flatMap((parsed) => (parsed.field ? [parsed.field] : []));
  if (fields.length > 2) problems.push('--field: at most two fields (a map)');
  else problems.push(...sweepFieldProblems(fields, '--field'));
  if (problems.length > 0) {
    err(problems.map((problem) => `cascade-lab sweep: ${problem}\n`).join(''));
    return 2;
  }
  const scenario = readScenario(file, err);
  if (!scenario) return 2;
  const outDir =
    options.outDir ??
    path.join(
      'reports',
      `${scenario.name}-sweep-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    );
  let result;
  const timings = options.timings ? new Timings() : undefined;
  try {
    result = await runSweep(scenario, {
      freshStacks: options.freshStacks,
      timings,
      outDir,
      ...(fields.length > 0 ? { fields } : {}),
      urls,
      adminToken: options.adminToken,
      redisUrl: options.redisUrl,
      redisClusterNodes: options.redisClusterNodes,
      timeScale: flags.timeScale,
      repeat: flags.repeat,
      onNote: err,
      onSweepProgress: (progress) =>
        err(`${interactive ? '\r\u001b[K' : ''}${formatSweepProgress(progress)}\n`),
      // Only on a terminal: the cells' own lines would bury the sweep's.
      onProgress: (run, p) => {
        if (interactive) showProgress(err, true, progressLine(p, { label: run }));
      },
      // The report grows with the sweep: it can be looked at while the sweep runs.
      onCellDone: (partial) => writeSweepReport(partial, outDir),
    });
  } catch (error) {
    if (!(error instanceof SweepError)) throw error;
    err(
      `${scenario.name}: cannot sweep:\n${error.problems.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return 2;
  }
  if (interactive) err('\r\u001b[K');
  const files = await timed(timings, 'report', async () => writeSweepReport(result, outDir));
  out(formatSweep(result));
  out(
    sweepNotes(result)
      .map((line) => `- ${line}\n`)
      .join(''),
  );
  out(`report: ${files.join(', ')}\n`);
  if (timings) err(timings.format());
  return 0;
}

export const sweepCommand = defineCommand({
  name: 'sweep',
  usage: [
    'sweep <scenario.yaml> [--field PATH=VALUES]... [--out DIR] [--repeat N] [--time-scale K] [--urls LIST]',
  ],
  summary:
    'a grid of a scenario: a verdict per cell (stable, recovered, did not recover) and a map',
  description:
    "Runs the scenario once per cell of a grid over one or two of its fields, every run with its repeats, and judges each run of each cell with the recovery verdict every report uses: stable, recovered in X, did not recover (metastable), fault still active or overloaded (the rule is in the report; sweep.verdict in the scenario sets it). Prints a map per run and writes summary.json, summary.md and report.html, and each cell's own experiment report under cells/. The scenario's thresholds are not judged. Stopped (Ctrl-C), it keeps the cells it finished: the same command with the same --out runs only the others.",
  flags: {
    field: {
      type: 'string',
      value: 'PATH=VALUES',
      multiple: true,
      help: "a field by its path and its values, instead of the scenario's sweep.fields; once or twice (the first across, the second down): load.ratePerSecond=40,60,80 (the values) · load.spike.durationMs=250..2000:4 (from..to in 4 even steps) · runs[0].policy.maxRetries=0,1,3 (any field of the scenario)",
    },
    ...runFlags,
    out: {
      type: 'string',
      value: 'DIR',
      help: "the sweep's folder (default reports/<scenario>-sweep-<time>); give the same one again to resume",
    },
    'time-scale': {
      type: 'string',
      value: 'K',
      help: "every time constant × K (default: the scenario's; auto is not taken here)",
    },
  },
  args: { min: 1, max: 1 },
  run: ({ values, args, io, env }) =>
    runSweepCommand(
      args[0]!,
      {
        ...runOptionsOf(values, env()),
        fields: values.field,
      },
      io,
    ),
});
