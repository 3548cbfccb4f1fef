import Value from 'typebox/value';
import { parseUrls, type StackUrls } from '../experiment/target.ts';
import { serveLoadMetrics } from '../generator/metrics.ts';
import { loadScenario, ScenarioError } from '../scenario/scenario.ts';
import { Repeat, type Scenario, TimeScale } from '../scenario/shape.ts';
import type { Flags } from './command.ts';
import type { CliEnv } from './env.ts';

/** What experiment and sweep share: where the report goes, the stack, the scale and repeats. */
export const runFlags = {
  out: {
    type: 'string',
    value: 'DIR',
    help: 'where the report goes (default reports/<scenario>-<time>)',
  },
  'time-scale': {
    type: 'string',
    value: 'K|auto',
    help: "stretch every time constant of the model by K (1–100) and report back in model time, so the host's fixed costs shrink K-fold; auto: calibrated on the first run, the smallest of 1, 2, 3, 4, 6, 8, 12, 16 at which the host takes at most half of what would shape it (docs/faithful-runs.md; default: the scenario's)",
  },
  repeat: {
    type: 'string',
    value: 'N',
    help: "run each run N times, interleaved; medians and 95 % intervals (default: the scenario's, else 1)",
  },
  urls: {
    type: 'string',
    value: 'LIST',
    help: 'run against a running stack (docker compose, cascade-lab up) instead of fresh local stacks: downstream=URL,gateway=URL,producer=URL,worker=URL[,worker=URL…]. Nothing is restarted: before and after each run faults are cleared, the policies the stack had are put back and the queue is drained. Name every worker; a worker hostname that resolves to several addresses counts as replicas; on a topic every events run gets a row per subscriber (default: CASCADE_URLS; unset: a fresh local stack)',
  },
  'admin-token': {
    type: 'string',
    value: 'TOKEN',
    help: "the running stack's ADMIN_TOKEN (default: the ADMIN_TOKEN variable)",
  },
  'fresh-stacks': {
    type: 'boolean',
    help: 'start a fresh local stack for every run instead of one stack for all of them, reset between runs (runs with subscribers or a killed worker always get a fresh one)',
  },
  timings: {
    type: 'boolean',
    help: 'at the end, print the wall time of each phase: stack start, warm-up, settle, run, drain, scrape, reset, report',
  },
} as const satisfies Flags;

/** The values of `runFlags` with the variables they default to: what experiment and sweep pass on alike. */
export function runOptionsOf(
  values: {
    out?: string;
    urls?: string;
    'admin-token'?: string;
    'time-scale'?: string;
    repeat?: string;
    'fresh-stacks'?: boolean;
    timings?: boolean;
  },
  env: CliEnv,
) {
  return {
    outDir: values.out,
    urls: values.urls ?? env.CASCADE_URLS,
    adminToken: values['admin-token'] ?? env.ADMIN_TOKEN,
    redisUrl: env.REDIS_URL,
    redisClusterNodes: env.REDIS_CLUSTER_NODES,
    timeScale: values['time-scale'],
    repeat: values.repeat,
    freshStacks: values['fresh-stacks'] ?? false,
    timings: values.timings ?? false,
  };
}

export const metricsPortFlag = {
  'metrics-port': {
    type: 'string',
    value: 'N',
    help: "serve the generator's own counters at http://HOST:N/metrics while it runs (default: LOAD_METRICS_PORT; unset: none)",
  },
} as const satisfies Flags;

/** `--metrics-port` as typed, else the environment's; every problem with it. */
export function metricsPortOf(typed: string | undefined, fromEnv: number | undefined) {
  const port = typed === undefined ? fromEnv : Number(typed);
  const problems =
    port === undefined || (Number.isInteger(port) && port >= 0 && port <= 65_535)
      ? []
      : [`--metrics-port: must be a port number (0–65535), got "${typed}"`];
  return { port, problems };
}

/** Starts the generator's `/metrics` endpoint when a port was given, and says where. */
export async function serveMetricsIfAsked(
  port: number | undefined,
  host: string,
  err: (text: string) => void,
) {
  if (port === undefined) return undefined;
  const served = await serveLoadMetrics(port, host);
  err(`load generator metrics at ${served.url}/metrics\n`);
  return served;
}

/** `--time-scale K|auto` and `--repeat N`, checked against the scenario schema's own rules. */
export function parseRunFlags(options: {
  timeScale?: string | undefined;
  repeat?: string | undefined;
}): {
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

/**
 * `--urls`, `--time-scale` and `--repeat` of a command that runs many experiments (sweep,
 * tune): a scale must be a number, since `auto` would probe again in each of `each`.
 */
export function parseManyRunFlags(
  options: {
    urls?: string | undefined;
    timeScale?: string | undefined;
    repeat?: string | undefined;
  },
  each: string,
): { urls?: StackUrls; timeScale?: number; repeat?: number; problems: string[] } {
  const problems: string[] = [];
  const parsed = options.urls === undefined ? undefined : parseUrls(options.urls);
  problems.push(...(parsed?.problems ?? []));
  const flags = parseRunFlags(options);
  problems.push(...flags.problems);
  if (flags.timeScale === 'auto')
    problems.push(`--time-scale: auto would probe ${each}; give a number`);
  return {
    ...(parsed?.urls ? { urls: parsed.urls } : {}),
    ...(typeof flags.timeScale === 'number' ? { timeScale: flags.timeScale } : {}),
    ...(flags.repeat !== undefined ? { repeat: flags.repeat } : {}),
    problems,
  };
}
