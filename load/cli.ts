#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dlqHelp, runDlq } from './dlq.ts';
import { loadHelp, runLoadCommand, seedSchedule } from './load-command.ts';
import { runUp } from './up-command.ts';
import { experimentHelp, runExperimentCommand } from './experiment-command.ts';

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
  cascade-lab serve <service>   start one service, configured by env (see README):
                                ${Object.keys(services).join(', ')}
  cascade-lab up                the local stack: Redis + the four services on free ports; Ctrl-C stops all
  cascade-lab experiment <scenario.yaml> [--out DIR] [--urls LIST]
                                run a scenario on fresh local stacks; table + report
  cascade-lab load --target rpc|events --url URL [--schedule SPEC]
                                one open-loop load run against running services
  cascade-lab dlq <list|redrive|purge> [options]
                                inspect and redrive the dead-letter queue
  cascade-lab help              show this text
  cascade-lab --version         print the version


${experimentHelp}
${loadHelp}
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
      prefix: { type: 'string' },
      limit: { type: 'string' },
      ids: { type: 'string' },
      all: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      target: { type: 'string' },
      url: { type: 'string' },
      schedule: { type: 'string' },
      'max-outstanding': { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      urls: { type: 'string' },
      'admin-token': { type: 'string' },
      'metrics-port': { type: 'string' },
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
  if (command === 'up') {
    const seed =
      process.env.SEED === undefined || process.env.SEED === ''
        ? undefined
        : Number(process.env.SEED);
    return runUp(
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
      seed,
    );
  }
  const metricsPortText = values['metrics-port'] ?? (process.env.LOAD_METRICS_PORT || undefined);
  const metricsPort = metricsPortText === undefined ? undefined : Number(metricsPortText);
  if (command === 'experiment') {
    return runExperimentCommand(
      rest[0],
      {
        outDir: typeof values.out === 'string' ? values.out : undefined,
        urls: typeof values.urls === 'string' ? values.urls : process.env.CASCADE_URLS || undefined,
        metricsPort,
        adminToken:
          typeof values['admin-token'] === 'string'
            ? values['admin-token']
            : process.env.ADMIN_TOKEN || undefined,
      },
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
      process.stderr.isTTY === true,
    );
  }
  if (command === 'load') {
    return runLoadCommand(
      {
        target: typeof values.target === 'string' ? values.target : undefined,
        url: typeof values.url === 'string' ? values.url : undefined,
        schedule: typeof values.schedule === 'string' ? values.schedule : seedSchedule,
        maxOutstanding: Number(values['max-outstanding'] ?? 10_000),
        json: typeof values.json === 'string' ? values.json : undefined,
        metricsPort,
      },
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
      process.stderr.isTTY === true,
    );
  }
  if (command === 'dlq') {
    const limit = Number(values.limit ?? 50);
    if (!Number.isInteger(limit) || limit < 1) {
      process.stderr.write(
        `cascade-lab dlq: --limit must be a positive integer, got "${String(values.limit)}"\n`,
      );
      return 2;
    }
    const env = process.env;
    return runDlq(
      rest[0],
      {
        redisUrl: String(values.redis ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
        queueName: String(values.queue ?? env.QUEUE_NAME ?? 'events'),
        prefix: String(values.prefix ?? env.QUEUE_PREFIX ?? 'cascade'),
        limit,
        ids: typeof values.ids === 'string' ? values.ids.split(',').filter(Boolean) : undefined,
        all: values.all === true,
        dryRun: values['dry-run'] === true,
      },
      (text) => process.stdout.write(text),
    );
  }
  process.stderr.write(`cascade-lab: unknown command "${command}"\n\n${help}`);
  return 2;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
