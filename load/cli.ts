#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { subscriberQueue } from '../services/shared/topic.ts';
import { dlqHelp, runDlq } from './cli/dlq.ts';
import { loadHelp, runLoadCommand, seedSchedule } from './cli/load.ts';
import { mergeHelp, runMergeCommand } from './cli/merge.ts';
import { runUp } from './cli/up.ts';
import { experimentHelp, runExperimentCommand } from './cli/experiment.ts';
import { runSweepCommand, sweepHelp } from './cli/sweep.ts';
import { stopLiveStacks } from './stack/stack.ts';
import { ConfigError } from '../services/shared/config.ts';
import { queueLocation } from '../services/shared/queue-env.ts';
import { type CliEnv, loadCliEnv } from './cli/env.ts';

// Literal specifiers, so the build rewrites them to .js.
const services = {
  downstream: () => import('../services/downstream/main.ts'),
  gateway: () => import('../services/gateway/main.ts'),
  producer: () => import('../services/producer/main.ts'),
  worker: () => import('../services/worker/main.ts'),
} as const;

const help = `cascade-lab — see how retries, timeouts, circuit breakers, bulkheads and queues
behave under bursty load and injected faults, over real HTTP.

Usage:
  cascade-lab serve <service>   start one service, configured by env (docs/reference.md):
                                ${Object.keys(services).join(', ')}
  cascade-lab up                the local stack: Redis + the four services on free ports; Ctrl-C stops all
                                (a Redis of yours with REDIS_URL, a Redis Cluster with
                                REDIS_CLUSTER_NODES=host:port,…; up, experiment and sweep alike)
  cascade-lab experiment <scenario.yaml> [--out DIR] [--urls LIST]
                                run a scenario on fresh local stacks; table + report
  cascade-lab sweep <scenario.yaml> [--field PATH=VALUES]... [--out DIR]
                                run a scenario over a grid of one or two of its fields;
                                a verdict per cell (stable, recovered, metastable) and a map
  cascade-lab load --target rpc|events --url URL [--schedule SPEC]
                                one open-loop load run against running services
  cascade-lab merge <result.json>... [--threshold EXPR]... [--out DIR]
                                merge the results of a distributed load run's generators
                                (load or experiment --segment i/n): exact percentiles, one report
  cascade-lab dlq <list|redrive|purge> [options]
                                inspect and redrive the dead-letter queue
  cascade-lab help              show this text
  cascade-lab --version         print the version


${experimentHelp}
${sweepHelp}
${loadHelp}
${mergeHelp}
${dlqHelp}`;

/** The package's version, found by walking up from this file (it runs from load/ and from dist/load/). */
function version(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      return String((JSON.parse(readFileSync(file, 'utf8')) as { version: unknown }).version);
    }
  }
  return 'unknown';
}

/**
 * Ctrl-C (or SIGTERM) during a run: stop the stacks this process started, so no service or
 * redis-server outlives it, and exit 130. A sweep keeps the cells it finished.
 */
function stopStacksOnInterrupt(err: (text: string) => void, command: string): void {
  const stop = (signal: NodeJS.Signals) => {
    err(
      `\n${signal}: stopping the services${command === 'sweep' ? '; the cells finished so far are kept, and the same command resumes' : ''}\n`,
    );
    void stopLiveStacks().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      redis: { type: 'string' },
      queue: { type: 'string' },
      subscriber: { type: 'string' },
      prefix: { type: 'string' },
      limit: { type: 'string' },
      ids: { type: 'string' },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      target: { type: 'string' },
      method: { type: 'string' },
      header: { type: 'string', multiple: true },
      body: { type: 'string' },
      ok: { type: 'string' },
      url: { type: 'string' },
      schedule: { type: 'string' },
      'max-outstanding': { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      urls: { type: 'string' },
      'admin-token': { type: 'string' },
      'metrics-port': { type: 'string' },
      'time-scale': { type: 'string' },
      repeat: { type: 'string' },
      field: { type: 'string', multiple: true },
      generators: { type: 'string' },
      segment: { type: 'string' },
      'start-at': { type: 'string' },
      'start-delay': { type: 'string' },
      'results-redis': { type: 'string' },
      'run-id': { type: 'string' },
      name: { type: 'string' },
      scenario: { type: 'string' },
      threshold: { type: 'string', multiple: true },
      wait: { type: 'string' },
      run: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(help);
    return 0;
  }
  if (command === 'serve') {
    const name = rest[0];
    if (name === undefined || !(name in services)) {
      process.stderr.write(
        `cascade-lab serve: name a service: ${Object.keys(services).join(', ')}\n`,
      );
      return 2;
    }
    await services[name as keyof typeof services]();
    return -1;
  }
  let env: CliEnv;
  try {
    env = loadCliEnv(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`cascade-lab: ${error.message}\n`);
    return 2;
  }
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  const interactive = process.stderr.isTTY === true;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  if (command === 'up') {
    return runUp(out, err, {
      seed: env.SEED,
      redisUrl: env.REDIS_URL,
      redisClusterNodes: env.REDIS_CLUSTER_NODES,
      adminToken: env.ADMIN_TOKEN,
    });
  }
  const metricsPortText = text(values['metrics-port']);
  const metricsPort =
    metricsPortText === undefined ? env.LOAD_METRICS_PORT : Number(metricsPortText);
  const metricsHost = env.HOST;
  if (command === 'experiment' || command === 'sweep') {
    stopStacksOnInterrupt(err, command);
    // What both run a scenario with.
    const common = {
      outDir: text(values.out),
      urls: text(values.urls) ?? env.CASCADE_URLS,
      adminToken: text(values['admin-token']) ?? env.ADMIN_TOKEN,
      redisUrl: env.REDIS_URL,
      redisClusterNodes: env.REDIS_CLUSTER_NODES,
      timeScale: text(values['time-scale']),
      repeat: text(values.repeat),
    };
    return command === 'sweep'
      ? runSweepCommand(
          rest[0],
          { ...common, fields: Array.isArray(values.field) ? values.field.map(String) : undefined },
          out,
          err,
          interactive,
        )
      : runExperimentCommand(
          rest[0],
          {
            ...common,
            metricsPort,
            metricsHost,
            generators: text(values.generators),
            segment: text(values.segment),
            run: text(values.run),
            startAt: text(values['start-at']),
            startDelay: text(values['start-delay']),
            resultsRedis: text(values['results-redis']),
            runId: text(values['run-id']),
          },
          out,
          err,
          interactive,
        );
  }
  if (command === 'load') {
    return runLoadCommand(
      {
        target: text(values.target),
        url: text(values.url),
        method: text(values.method),
        headers: Array.isArray(values.header) ? values.header.map(String) : undefined,
        body: text(values.body),
        ok: text(values.ok),
        schedule: text(values.schedule) ?? seedSchedule,
        maxOutstanding: Number(values['max-outstanding'] ?? 10_000),
        json: text(values.json),
        metricsPort,
        metricsHost,
        segment: text(values.segment),
        startAt: text(values['start-at']),
        startDelay: text(values['start-delay']),
        out: text(values.out),
        resultsRedis: text(values['results-redis']),
        runId: text(values['run-id']),
        name: text(values.name),
      },
      out,
      err,
      interactive,
    );
  }
  if (command === 'merge') {
    return runMergeCommand(
      {
        files: rest,
        resultsRedis: text(values['results-redis']),
        runId: text(values['run-id']),
        wait: text(values.wait),
        scenario: text(values.scenario),
        thresholds: Array.isArray(values.threshold) ? values.threshold.map(String) : undefined,
        outDir: text(values.out),
      },
      out,
      err,
    );
  }
  if (command === 'dlq') {
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1) {
      err(`cascade-lab dlq: --limit must be a positive integer, got "${String(values.limit)}"\n`);
      return 2;
    }
    // --redis names one node, and wins over a cluster in the environment.
    const redisFlag = text(values.redis);
    const location = queueLocation({
      REDIS_URL: redisFlag ?? env.REDIS_URL,
      REDIS_CLUSTER_NODES: redisFlag === undefined ? env.REDIS_CLUSTER_NODES : undefined,
      QUEUE_PREFIX: text(values.prefix) ?? env.QUEUE_PREFIX,
    });
    if ('problems' in location) {
      err(`cascade-lab dlq:\n${location.problems.map((line) => `  ${line}\n`).join('')}`);
      return 2;
    }
    return runDlq(
      rest[0],
      {
        redis: location.redis,
        queueName: subscriberQueue(
          text(values.queue) ?? env.QUEUE_NAME,
          text(values.subscriber) ?? (env.SUBSCRIBER === '' ? undefined : env.SUBSCRIBER),
        ),
        prefix: location.queuePrefix,
        limit,
        ids: text(values.ids)?.split(',').filter(Boolean),
        all: values.all === true,
        dryRun: values['dry-run'] === true,
      },
      out,
    );
  }
  process.stderr.write(`cascade-lab: unknown command "${command}"\n\n${help}`);
  return 2;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
