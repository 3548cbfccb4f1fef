import { writeFileSync } from 'node:fs';
import Value from 'typebox/value';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { toPart } from '../distributed/part.ts';
import { ResultsStore, savePart } from '../distributed/results-store.ts';
import { scheduleFacts, segmentOf } from '../distributed/segment.ts';
import { runLoad } from '../generator/generator.ts';
import { HttpRequestSpec, requestProblems } from '../generator/http-target.ts';
import { connectFor } from '../generator/pool.ts';
import { defaultMaxOutstanding } from '../generator/recording.ts';
import type { LoadTarget } from '../generator/series.ts';
import { formatResult } from '../report/load-result.ts';
import { endProgress, progressLine, showProgress } from '../report/progress.ts';
import { buildSchedule, closedLoopOf } from '../schedule/schedule.ts';
import { parseScheduleArg, seedSchedule } from '../schedule/schedule-text.ts';
import { defineCommand, type Io } from './command.ts';
import {
  type DistributedFlags,
  distributedFlags,
  distributedFlagSpecs,
} from './distributed-flags.ts';
import { metricsPortFlag, metricsPortOf, serveMetricsIfAsked } from './run-options.ts';

export interface LoadCommandOptions extends DistributedFlags {
  target: string | undefined;
  url: string | undefined;
  /** For `--target http`. */
  method?: string | undefined;
  headers?: string[] | undefined;
  body?: string | undefined;
  ok?: string | undefined;
  schedule: string;
  maxOutstanding: number;
  json?: string | undefined;
  metricsPort?: number | undefined;
  /** Where the generator's `/metrics` listens. @defaultValue '127.0.0.1' */
  metricsHost?: string | undefined;
}

/** `--target http`'s request from the flags, checked like a scenario's (one line per problem). */
function httpRequestOf(
  options: LoadCommandOptions,
  problems: string[],
): HttpRequestSpec | undefined {
  const headers: Record<string, string> = {};
  for (const header of options.headers ?? []) {
    const colon = header.indexOf(':');
    if (colon < 1) problems.push(`--header: "${header}" is not "name: value"`);
    else headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const okStatuses = options.ok?.split(',').map((status) => Number(status.trim()));
  let path: string;
  try {
    const url = new URL((options.url ?? '').replaceAll('{{', '%7B%7B').replaceAll('}}', '%7D%7D'));
    path = `${url.pathname}${url.search}`.replaceAll('%7B%7B', '{{').replaceAll('%7D%7D', '}}');
  } catch {
    return undefined;
  }
  const candidate = {
    method: (options.method ?? 'GET').toUpperCase(),
    path,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(okStatuses ? { okStatuses } : {}),
  };
  const schemaIssues = formatIssues(Value.Errors(HttpRequestSpec, candidate), '');
  const issues =
    schemaIssues.length > 0 ? schemaIssues : requestProblems(candidate as HttpRequestSpec, '');
  problems.push(
    ...issues.map((issue) =>
      issue
        .replace(/^method/, '--method')
        .replace(/^okStatuses(\[\d+\])?/, '--ok')
        .replace(/^body/, '--body')
        .replace(/^headers\./, '--header ')
        .replace(/^headers/, '--header'),
    ),
  );
  return issues.length > 0 ? undefined : (candidate as HttpRequestSpec);
}

/** `cascade-lab load`: one open-loop run against running services. Answers the exit code. */
export async function runLoadCommand(
  options: LoadCommandOptions,
  { out, err, interactive }: Io,
): Promise<number> {
  const problems: string[] = [];
  const http = options.target === 'http';
  if (options.target !== 'rpc' && options.target !== 'events' && !http)
    problems.push('--target: must be rpc, events or http');
  if (http) {
    if (options.url === undefined || !/^https?:\/\/[^/?#]+/.test(options.url))
      problems.push('--url: must be a URL such as http://127.0.0.1:3000/orders');
  } else if (options.url === undefined || !/^https?:\/\/[^/]+\/?$/.test(options.url)) {
    problems.push('--url: must be an origin such as http://127.0.0.1:8080');
  }
  const request = http ? httpRequestOf(options, problems) : undefined;
  const parsed = parseScheduleArg(options.schedule);
  problems.push(...parsed.problems.map((problem) => `--${problem}`));
  if (!Number.isInteger(options.maxOutstanding) || options.maxOutstanding < 1) {
    problems.push('--max-outstanding: must be a positive integer');
  }
  const distributed =
    options.segment !== undefined ||
    options.out !== undefined ||
    options.resultsRedis !== undefined ||
    options.startAt !== undefined
      ? distributedFlags(options, '--out FILE', problems)
      : undefined;
  if (distributed && parsed.spec?.kind === 'closed')
    problems.push(
      '--segment: a closed loop runs in one generator (each user waits for its own answers)',
    );
  if (problems.length > 0 || parsed.spec === undefined) {
    err(problems.map((problem) => `cascade-lab load: ${problem}\n`).join(''));
    return 2;
  }
  const served = await serveMetricsIfAsked(
    options.metricsPort,
    options.metricsHost ?? '127.0.0.1',
    err,
  );
  const schedule = buildSchedule(parsed.spec);
  const share = distributed ? segmentOf(schedule, distributed.segment) : undefined;
  const offsetsMs = share?.offsetsMs ?? schedule;
  const baseUrl = http
    ? new URL(options.url as string).origin
    : (options.url as string).replace(/\/$/, '');
  const store =
    options.resultsRedis === undefined
      ? undefined
      : new ResultsStore(options.resultsRedis, options.runId as string);
  try {
    const pool = await connectFor(baseUrl, offsetsMs, {
      maxOutstanding: options.maxOutstanding,
      holdMs: 1000,
    });
    let startAt = distributed?.startAt;
    if (distributed && startAt === undefined && store) {
      startAt = await store.agreeStart(distributed.startDelayMs);
      err(
        `starting at ${new Date(startAt).toISOString()} (agreed in Redis, run ${options.runId})\n`,
      );
    }
    if (startAt !== undefined && startAt < Date.now())
      err(
        `warning: the shared start passed ${Date.now() - startAt} ms ago: this generator's first arrivals leave late, and its lateness says so\n`,
      );
    const result = await runLoad({
      ...(served ? { metrics: served.metrics } : {}),
      target: options.target as LoadTarget,
      baseUrl,
      request,
      pool,
      offsetsMs,
      closed: closedLoopOf(parsed.spec),
      ...(share ? { indices: share.indices, record: true } : {}),
      ...(startAt === undefined ? {} : { startAt }),
      maxOutstanding: options.maxOutstanding,
      // Shared by a distributed run's generators: ids differ by the arrival's number.
      idPrefix: `load-${(startAt ?? Date.now()).toString(36)}`,
      onProgress: (progress) => showProgress(err, interactive, progressLine(progress)),
    }).finally(() => pool.close());
    await served?.close();
    endProgress(err, interactive);
    out(formatResult(result));
    if (options.json) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
    if (distributed) {
      const part = toPart(
        {
          name: distributed.name,
          segment: distributed.segment,
          schedule: scheduleFacts(schedule, parsed.spec),
          startAt: startAt ?? null,
          target: options.target as LoadTarget,
          url: options.url as string,
          timeScale: 1,
          maxOutstanding: options.maxOutstanding,
        },
        result,
      );
      out(`result: ${await savePart(part, store ?? (options.out as string))}\n`);
    }
    return 0;
  } finally {
    await store?.close();
  }
}

export const loadCommand = defineCommand({
  name: 'load',
  usage: [
    'load --target rpc|events --url URL [--schedule SPEC] [--max-outstanding N] [--json FILE]',
    "load --target http --url URL [--method M] [--header 'name: value']... [--body TEXT] [--ok LIST] …",
    'load … --segment i/n (--start-at MS | --results-redis URL --run-id ID) [--out FILE]',
  ],
  summary: 'one load run (open loop, or closed) against running services or any HTTP endpoint',
  description:
    "Sends one open-loop schedule (each request at its time, whatever the earlier ones are doing), or a closed loop of users (closed:…), and prints the accounting (sent = ok + failed + dropped), latency from the scheduled send and from the write, and the generator's own lateness. With --segment it is one generator of several: its result is a part for cascade-lab merge.",
  flags: {
    target: {
      type: 'string',
      value: 'rpc|events|http',
      help: 'rpc: POST /rpc on the gateway; events: POST /events on the producer; http: any endpoint (your own service)',
    },
    url: {
      type: 'string',
      value: 'URL',
      help: "the gateway's or the producer's origin, e.g. http://127.0.0.1:8080; for http the whole URL, e.g. http://127.0.0.1:3000/orders/{{index}}",
    },
    method: { type: 'string', value: 'M', help: 'http: the request method (default GET)' },
    header: {
      type: 'string',
      value: "'name: value'",
      multiple: true,
      help: "http: a request header; header values, the path and the body may hold {{index}} (the request's number), {{id}} (unique per run) and {{uuid}}",
    },
    body: { type: 'string', value: 'TEXT', help: 'http: the request body' },
    ok: {
      type: 'string',
      value: 'LIST',
      help: 'http: the statuses that count as ok, e.g. 200,201 (default every 2xx)',
    },
    schedule: {
      type: 'string',
      value: 'SPEC',
      help: `kind:key=value,… (default ${seedSchedule}, the seed's): bursts:total=N,burst=N,gapMs=MS · constant:ratePerSecond=R,durationMs=MS · ramp:fromRps=R,toRps=R,durationMs=MS (add arrivals=poisson,seed=N for Poisson arrivals) · closed:users=N,thinkTimeMs=MS,durationMs=MS`,
    },
    'max-outstanding': {
      type: 'string',
      value: 'N',
      help: `requests in flight at most; arrivals beyond it count as dropped (default ${defaultMaxOutstanding})`,
    },
    json: {
      type: 'string',
      value: 'FILE',
      help: 'also write the full result (series, latencies, outcomes) as JSON',
    },
    ...distributedFlagSpecs,
    out: {
      type: 'string',
      value: 'FILE',
      help: "write this generator's result for cascade-lab merge (histograms kept whole)",
    },
    name: {
      type: 'string',
      value: 'NAME',
      help: "the run's name in the merged table and thresholds (default load)",
    },
    ...metricsPortFlag,
  },
  args: { min: 0, max: 0 },
  run: async ({ values, io, env }) => {
    const metrics = metricsPortOf(values['metrics-port'], env().LOAD_METRICS_PORT);
    if (metrics.problems.length > 0) {
      io.err(metrics.problems.map((problem) => `cascade-lab load: ${problem}\n`).join(''));
      return 2;
    }
    const maxOutstanding = values['max-outstanding'];
    return runLoadCommand(
      {
        target: values.target,
        url: values.url,
        method: values.method,
        headers: values.header,
        body: values.body,
        ok: values.ok,
        schedule: values.schedule ?? seedSchedule,
        maxOutstanding:
          maxOutstanding === undefined ? defaultMaxOutstanding : Number(maxOutstanding),
        json: values.json,
        metricsPort: metrics.port,
        metricsHost: env().HOST,
        segment: values.segment,
        startAt: values['start-at'],
        startDelay: values['start-delay'],
        out: values.out,
        resultsRedis: values['results-redis'],
        runId: values['run-id'],
        name: values.name,
      },
      io,
    );
  },
});
