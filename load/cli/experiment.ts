import path from 'node:path';
import { runExperiment } from '../experiment/run-experiment.ts';
import type { StackMode } from '../experiment/run-stacks.ts';
import { timed, Timings } from '../experiment/timings.ts';
import { runExperimentSegment } from '../experiment/split-run.ts';
import { parseUrls, type StackUrls } from '../experiment/target.ts';
import { formatResult } from '../report/load-result.ts';
import { printResult } from '../report/print.ts';
import { endProgress, progressLine, showProgress } from '../report/progress.ts';
import { writeSummary } from '../report/write.ts';
import { defineCommand, type Io } from './command.ts';
import {
  type DistributedFlags,
  distributedFlags,
  distributedFlagSpecs,
} from './distributed-flags.ts';
import {
  metricsPortFlag,
  metricsPortOf,
  parseRunFlags,
  readScenario,
  runFlags,
  runOptionsOf,
  serveMetricsIfAsked,
} from './run-options.ts';
import { segmentProblems } from './split-flags.ts';

/** Generator processes on one machine at most (each is a Node process of its own). */
const maxLocalGenerators = 64;

/** Its part goes to `outDir`, not `--out FILE`; the run's name is its own, not `--name`. */
export interface ExperimentCommandOptions extends Omit<DistributedFlags, 'out' | 'name'> {
  outDir?: string | undefined;
  /** `downstream=URL,…` as typed. */
  urls?: string | undefined;
  adminToken?: string | undefined;
  metricsPort?: number | undefined;
  /** Where the generator's `/metrics` listens. @defaultValue '127.0.0.1' */
  metricsHost?: string | undefined;
  /** A Redis for the fresh local stacks (unset: a redis-server of their own). */
  redisUrl?: string | undefined;
  /** A Redis Cluster for them instead (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string | undefined;
  /** `--time-scale` and `--repeat` as typed. */
  timeScale?: string | undefined;
  repeat?: string | undefined;
  freshStacks?: boolean | undefined;
  /** Print the wall time of each phase at the end. */
  timings?: boolean | undefined;
  /** `--generators N` as typed. */
  generators?: string | undefined;
  /** One generator of a run split across machines (`--segment i/n` and the rest): which run. */
  run?: string | undefined;
}

/** `cascade-lab experiment`: answers the exit code. */
export async function runExperimentCommand(
  file: string,
  options: ExperimentCommandOptions,
  { out, err, interactive }: Io,
): Promise<number> {
  let urls: StackUrls | undefined;
  if (options.urls !== undefined) {
    const parsed = parseUrls(options.urls);
    if (!parsed.urls) {
      err(parsed.problems.map((problem) => `cascade-lab experiment: ${problem}\n`).join(''));
      return 2;
    }
    urls = parsed.urls;
  }
  const flags = parseRunFlags(options);
  const generators = Number(options.generators ?? 1);
  const flagProblems = [
    ...flags.problems,
    ...(Number.isInteger(generators) && generators >= 1 && generators <= maxLocalGenerators
      ? []
      : [
          `--generators: must be an integer from 1 to ${maxLocalGenerators} (got "${options.generators}")`,
        ]),
  ];
  if (flagProblems.length > 0) {
    err(flagProblems.map((problem) => `cascade-lab experiment: ${problem}\n`).join(''));
    return 2;
  }
  const scenario = readScenario(file, err);
  if (!scenario) return 2;
  if (options.segment !== undefined || options.startAt !== undefined) {
    const checked = segmentProblems(scenario, options, flags, urls, generators);
    const problems = [...checked.problems];
    const distributed = distributedFlags(
      { ...options, out: options.outDir },
      '--out DIR',
      problems,
    );
    if (problems.length > 0 || !checked.run) {
      err(problems.map((problem) => `cascade-lab experiment: ${problem}\n`).join(''));
      return 2;
    }
    if ((scenario.repeat ?? 1) > 1)
      err(`the scenario's repeat (${scenario.repeat}) is not used: a split run runs once\n`);
    const { load, savedTo } = await runExperimentSegment(
      scenario,
      {
        segment: distributed.segment,
        startAt: distributed.startAt,
        startDelayMs: distributed.startDelayMs,
        runName: checked.run.name,
        timeScale: checked.timeScale,
        urls,
        adminToken: options.adminToken,
        outDir: options.outDir,
        resultsRedis: options.resultsRedis,
        runId: options.runId,
        onProgress: (run, p, queueDepth) =>
          showProgress(err, interactive, progressLine(p, { label: run, queueDepth })),
      },
      err,
    );
    out(formatResult(load));
    out(`result: ${savedTo}\n`);
    return 0;
  }
  const served = await serveMetricsIfAsked(
    options.metricsPort,
    options.metricsHost ?? '127.0.0.1',
    err,
  );
  const repeats = flags.repeat ?? scenario.repeat ?? 1;
  const timings = options.timings ? new Timings() : undefined;
  let stackMode: StackMode = 'fresh';
  const result = await runExperiment(scenario, {
    ...(urls ? { urls } : {}),
    ...(served ? { metrics: served.metrics } : {}),
    adminToken: options.adminToken,
    redisUrl: options.redisUrl,
    redisClusterNodes: options.redisClusterNodes,
    timeScale: flags.timeScale,
    repeat: flags.repeat,
    generators,
    freshStacks: options.freshStacks,
    timings,
    onNote: err,
    onStacks: (mode) => (stackMode = mode),
    onRunStart: (run, index, repeat, timeScale) => {
      const total = repeats * scenario.runs.length;
      const step =
        repeat < 0
          ? `probing time scale ${timeScale} (auto)`
          : `[${repeat * scenario.runs.length + index + 1}/${total}]${repeats > 1 ? ` repeat ${repeat + 1}/${repeats}` : ''}`;
      err(
        `${step} ${run.name} (${run.target}), time scale ${timeScale}: ${run.target === 'http' ? `straight at ${scenario.service?.url ?? 'the service'}` : stackNotes[stackMode]}…\n`,
      );
    },
    onProgress: (run, p, queueDepth) =>
      showProgress(err, interactive, progressLine(p, { label: run, queueDepth })),
  });
  await served?.close();
  endProgress(err, interactive);
  const dir =
    options.outDir ??
    path.join('reports', `${scenario.name}-${result.startedAt.replace(/[:.]/g, '-')}`);
  const files = await timed(timings, 'report', async () => writeSummary(result, dir));
  const status = printResult(result, files, out);
  if (timings) err(timings.format());
  return status;
}

const stackNotes: Record<StackMode, string> = {
  running: 'resetting the running stack',
  shared: 'on the shared local stack, reset first',
  fresh: 'starting a fresh stack',
};

export const experimentCommand = defineCommand({
  name: 'experiment',
  usage: [
    'experiment <scenario.yaml> [--out DIR] [--time-scale K|auto] [--repeat N] [--generators N]',
    'experiment <scenario.yaml> --urls LIST [--admin-token TOKEN] …',
    'experiment <scenario.yaml> --run NAME --segment i/n (--start-at MS | --results-redis URL --run-id ID) --urls LIST',
  ],
  summary:
    'a scenario: its runs on a local stack reset between them (or a running one), a table and a report',
  description:
    "Runs the runs of the scenario on one local stack (Redis and the four services), reset between runs (a fresh stack per run with --fresh-stacks, or where a run kills a worker or names its subscribers), or on a running one (--urls), prints the comparison table and writes summary.json, summary.md and report.html. Exits 1 when a threshold fails. With --segment it is one generator of a run split across machines: segment 0 also resets the stack, injects the faults and reads the services; cascade-lab merge makes the run's table of their parts.",
  flags: {
    ...runFlags,
    generators: {
      type: 'string',
      value: 'N',
      help: `send each run's load from N local generator processes (1–${maxLocalGenerators}), each a segment of the one seeded schedule on one clock, merged exactly (default 1)`,
    },
    run: {
      type: 'string',
      value: 'NAME',
      help: 'with --segment: the run of the scenario this generator sends a share of',
    },
    ...distributedFlagSpecs,
    ...metricsPortFlag,
  },
  args: { min: 1, max: 1 },
  run: async ({ values, args, io, env }) => {
    const metrics = metricsPortOf(values['metrics-port'], env().LOAD_METRICS_PORT);
    if (metrics.problems.length > 0) {
      io.err(metrics.problems.map((problem) => `cascade-lab experiment: ${problem}\n`).join(''));
      return 2;
    }
    return runExperimentCommand(
      args[0]!,
      {
        ...runOptionsOf(values, env()),
        metricsPort: metrics.port,
        metricsHost: env().HOST,
        generators: values.generators,
        run: values.run,
        segment: values.segment,
        startAt: values['start-at'],
        startDelay: values['start-delay'],
        resultsRedis: values['results-redis'],
        runId: values['run-id'],
      },
      io,
    );
  },
});
