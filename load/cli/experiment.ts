import path from 'node:path';
import { runExperiment } from '../experiment/run-experiment.ts';
import { parseUrls, type StackUrls } from '../experiment/target.ts';
import { metricsPortProblems, serveMetricsIfAsked } from './load.ts';
import { formatNotes, formatThresholds, formatTable } from '../report/summary.ts';
import { writeSummary } from '../report/write.ts';
import Value from 'typebox/value';
import { type LoadProgress } from '../generator/options.ts';

/** Generator processes on one machine at most (each is a Node process of its own). */
export const maxLocalGenerators = 64;
import {
  loadScenario,
  Repeat,
  type Scenario,
  ScenarioError,
  TimeScale,
} from '../scenario/scenario.ts';
import { type DistributedFlags, distributedFlags } from './distributed-flags.ts';
import { runExperimentSegment } from '../experiment/split-run.ts';

export const experimentHelp = `Usage:
  cascade-lab experiment <scenario.yaml> [--out DIR] [--time-scale K|auto] [--repeat N]
                         [--generators N] [--urls LIST] [--admin-token TOKEN]

  Runs each run of the scenario on a fresh local stack (Redis + the four services),
  prints the comparison table and writes summary.json, summary.md and report.html to DIR
  (default reports/<scenario>-<time>). Exits 1 when a threshold fails.

  --time-scale   stretch every time constant of the model by K (1–100) and report back in
                 model time, so the host's fixed costs shrink K-fold; auto: the smallest of
                 1, 2, 4, 8 at which the host does not shape the run (default: the scenario's)
  --repeat       run each run N times, interleaved; medians and 95 % intervals (default: the
                 scenario's, else 1)
  --generators   send each run's load from N local generator processes (1–64), each a
                 segment of the one seeded schedule on one clock, merged exactly (default 1)
  --segment i/n  be generator i of n of one run (--run NAME) split across machines, on a
                 running stack (--urls): every one sends its share of the schedule from
                 --start-at MS (or from a start agreed in --results-redis URL --run-id ID);
                 segment 0 also resets the stack, injects the faults and reads the services.
                 Each writes its result to --out DIR (or the Redis); cascade-lab merge makes
                 the run's table and report of them
  --urls         run against a running stack instead (docker compose, cascade-lab up):
                   downstream=URL,gateway=URL,producer=URL,worker=URL[,worker=URL…]
                 Nothing is restarted: before and after each run, faults are cleared, the
                 policies the stack had at the start are put back and the queue is drained.
                 Name every worker (one per subscriber); a worker hostname that resolves to
                 several addresses counts as replicas. When the producer publishes to a
                 topic, every events run gets a row per subscriber (<run>-<subscriber>).
                 (default: the CASCADE_URLS variable; unset: a fresh local stack)
  --admin-token  the running stack's ADMIN_TOKEN (default: the ADMIN_TOKEN variable)
  --metrics-port the generator's own /metrics while it runs (default: LOAD_METRICS_PORT)
`;

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
  /** `--generators N` as typed. */
  generators?: string | undefined;
  /** One generator of a run split across machines (`--segment i/n` and the rest): which run. */
  run?: string | undefined;
}

/** A run's progress as one line: rewritten in place on a terminal, one per report otherwise. */
function progressLine(
  run: string,
  p: LoadProgress,
  queueDepth: number | null,
  interactive: boolean,
): string {
  const line = `  ${run}  ${(p.elapsedMs / 1000).toFixed(1)}s  sent ${p.sent}/${p.scheduled}  ok ${p.ok}  failed ${p.failed}  dropped ${p.dropped}${queueDepth === null ? '' : `  queue ${queueDepth}`}`;
  return interactive ? `\r${line}\u001b[K` : `${line}\n`;
}

/** `experiment --segment`: the run it is a generator of, and every problem with the flags. */
export function segmentProblems(
  scenario: Scenario,
  options: ExperimentCommandOptions,
  flags: { timeScale?: number | 'auto'; repeat?: number },
  urls: StackUrls | undefined,
  generators: number,
): { problems: string[]; run?: Scenario['runs'][number]; timeScale: number } {
  const problems: string[] = [];
  const names = scenario.runs.map((run) => run.name);
  const run =
    options.run !== undefined
      ? scenario.runs.find((candidate) => candidate.name === options.run)
      : scenario.runs.length === 1
        ? scenario.runs[0]
        : undefined;
  if (!run)
    problems.push(
      options.run === undefined
        ? `--run: a generator of a split run runs one run; name one of ${names.join(', ')}`
        : `--run: the scenario has no run "${options.run}" (it has ${names.join(', ')})`,
    );
  const timeScale = flags.timeScale ?? scenario.timeScale ?? 1;
  if (timeScale === 'auto')
    problems.push('--time-scale: auto probes with one generator; give every generator a number');
  if ((flags.repeat ?? 1) > 1) problems.push('--repeat: a split run runs once');
  if (generators > 1) problems.push('--generators: a split run has one generator per --segment');
  if (run && run.target !== 'http' && !urls)
    problems.push(
      '--urls: the generators of a split run share one running stack (cascade-lab up, compose, Kubernetes)',
    );
  if (run?.target === 'events' && (run.killWorker || run.subscribers))
    problems.push(
      `--run: ${run.name} ${run.killWorker ? 'kills a worker' : 'names its subscribers'}, which needs a fresh local stack`,
    );
  return { problems, ...(run ? { run } : {}), timeScale: timeScale === 'auto' ? 1 : timeScale };
}

/** `--time-scale K|auto` and `--repeat N`, checked against the scenario schema's own rules. */
export function parseRunFlags(options: Pick<ExperimentCommandOptions, 'timeScale' | 'repeat'>): {
  timeScale?: number | 'auto';
  repeat?: number;
  problems: string[];
} {
  const problems: string[] = [];
  const flags: { timeScale?: number | 'auto'; repeat?: number } = {};
  if (options.timeScale !== undefined) {
    const value = options.timeScale === 'auto' ? 'auto' : Number(options.timeScale);
    if (Value.Check(TimeScale, value)) flags.timeScale = value;
    else
      problems.push(
        `--time-scale: must be a number from 1 to 100, or auto (got "${options.timeScale}")`,
      );
  }
  if (options.repeat !== undefined) {
    const value = Number(options.repeat);
    if (Value.Check(Repeat, value)) flags.repeat = value;
    else problems.push(`--repeat: must be an integer from 1 to 50 (got "${options.repeat}")`);
  }
  return { ...flags, problems };
}

/** The scenario file, validated; or undefined once every problem with it is said. */
export function readScenario(file: string, err: (text: string) => void): Scenario | undefined {
  try {
    return loadScenario(file);
  } catch (error) {
    err(
      `${error instanceof ScenarioError ? error.message : `cannot read ${file}: ${(error as Error).message}`}\n`,
    );
    return undefined;
  }
}

export async function runExperimentCommand(
  file: string | undefined,
  options: ExperimentCommandOptions,
  out: (text: string) => void,
  err: (text: string) => void,
  interactive: boolean,
): Promise<number> {
  if (file === undefined) {
    err(experimentHelp);
    return 2;
  }
  let urls: StackUrls | undefined;
  if (options.urls !== undefined) {
    const parsed = parseUrls(options.urls);
    if (!parsed.urls) {
      err(`${parsed.problems.join('\n')}\n`);
      return 2;
    }
    urls = parsed.urls;
  }
  const flags = parseRunFlags(options);
  const generators = Number(options.generators ?? 1);
  const flagProblems = [
    ...metricsPortProblems(options.metricsPort),
    ...flags.problems,
    ...(Number.isInteger(generators) && generators >= 1 && generators <= maxLocalGenerators
      ? []
      : [
          `--generators: must be an integer from 1 to ${maxLocalGenerators} (got "${options.generators}")`,
        ]),
  ];
  if (flagProblems.length > 0) {
    err(`${flagProblems.join('\n')}\n`);
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
      err(`cascade-lab experiment: ${problems.join('\n  ')}\n`);
      return 2;
    }
    if ((scenario.repeat ?? 1) > 1)
      err(`the scenario's repeat (${scenario.repeat}) is not used: a split run runs once\n`);
    return runExperimentSegment(
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
        onProgress: (run, p, queueDepth) => err(progressLine(run, p, queueDepth, interactive)),
      },
      out,
      err,
    );
  }
  const served = await serveMetricsIfAsked(
    options.metricsPort,
    options.metricsHost ?? '127.0.0.1',
    err,
  );
  const repeats = flags.repeat ?? scenario.repeat ?? 1;
  const result = await runExperiment(scenario, {
    ...(urls ? { urls } : {}),
    ...(served ? { metrics: served.metrics } : {}),
    adminToken: options.adminToken,
    redisUrl: options.redisUrl,
    redisClusterNodes: options.redisClusterNodes,
    timeScale: flags.timeScale,
    repeat: flags.repeat,
    generators,
    onNote: err,
    onRunStart: (run, index, repeat, timeScale) => {
      const total = repeats * scenario.runs.length;
      const step =
        repeat < 0
          ? `probing time scale ${timeScale} (auto)`
          : `[${repeat * scenario.runs.length + index + 1}/${total}]${repeats > 1 ? ` repeat ${repeat + 1}/${repeats}` : ''}`;
      err(
        `${step} ${run.name} (${run.target}), time scale ${timeScale}: ${run.target === 'http' ? `straight at ${scenario.service?.url ?? 'the service'}` : urls ? 'resetting the running stack' : 'starting a fresh stack'}…\n`,
      );
    },
    onProgress: (run, p, queueDepth) => err(progressLine(run, p, queueDepth, interactive)),
  });
  await served?.close();
  if (interactive) err('\n');
  const dir =
    options.outDir ??
    path.join('reports', `${scenario.name}-${result.startedAt.replace(/[:.]/g, '-')}`);
  const files = writeSummary(result, dir);
  out(formatTable(result));
  out(formatNotes(result));
  if (result.thresholds.length > 0) out(`${formatThresholds(result)}\n`);
  for (const run of result.runs)
    for (const warning of run.warnings) out(`warning (${run.name}): ${warning}\n`);
  out(`report: ${files.join(', ')}\n`);
  return result.thresholds.every((threshold) => threshold.passed) ? 0 : 1;
}
