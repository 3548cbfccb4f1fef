import { writeFileSync } from 'node:fs';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { taggedUnionProblems } from '../../services/shared/schemas.ts';
import { connectFor } from '../generator/pool.ts';
import { type LoadProgress } from '../generator/options.ts';
import { type LoadResult } from '../generator/recording.ts';
import { type LoadTarget } from '../generator/series.ts';
import { runLoad } from '../generator/generator.ts';
import { HttpRequestSpec } from '../generator/http-target.ts';
import { serveLoadMetrics } from '../generator/metrics.ts';
import { buildSchedule, ScheduleSpec } from '../schedule/schedule.ts';
import { toPart } from '../distributed/part.ts';
import { ResultsStore, savePart } from '../distributed/results-store.ts';
import { type DistributedFlags, distributedFlags } from './distributed-flags.ts';
import { scheduleFacts, segmentOf } from '../distributed/segment.ts';

export const metricsPortProblems = (port: number | undefined): string[] =>
  port === undefined || (Number.isInteger(port) && port >= 0 && port <= 65_535)
    ? []
    : ['--metrics-port: must be a port number (0–65535)'];

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

export const loadHelp = `Usage:
  cascade-lab load --target rpc|events --url URL [--schedule SPEC] [--max-outstanding N] [--json FILE]
  cascade-lab load --target http --url URL [--method M] [--header 'name: value']... [--body TEXT]
                   [--ok 200,201] [--schedule SPEC] …

  --target           rpc: POST /rpc on the gateway; events: POST /events on the producer;
                     http: any endpoint (your own service)
  --url              the gateway's or the producer's origin, e.g. http://127.0.0.1:8080; for http
                     the whole URL, e.g. http://127.0.0.1:3000/orders/{{index}}
  --method, --header, --body
                     http: the request (default GET); the URL's path, header values and the body
                     may hold {{index}} (the request's number), {{id}} (unique per run), {{uuid}}
  --ok               http: the statuses that count as ok (default every 2xx)
  --schedule         kind:key=value,… (default: the seed's bursts:total=2000,burst=350,gapMs=80)
                       bursts:total=N,burst=N,gapMs=MS
                       constant:ratePerSecond=R,durationMs=MS
                       ramp:fromRps=R,toRps=R,durationMs=MS
  --max-outstanding  requests in flight at most; arrivals beyond it count as dropped (default 10000)
  --json FILE        also write the full result (series, latencies, outcomes) as JSON
  --segment i/n      send only generator i's share of the schedule (of n, from 0): every
                     arrival k with k mod n = i, so n generators send it all, bursts shared out
  --start-at MS      start the schedule at this instant (epoch ms), the same for every generator
  --out FILE         write this generator's result for cascade-lab merge (histograms kept whole)
  --results-redis URL --run-id ID
                     write it to this Redis under the run id instead; without --start-at the
                     generators agree on a start there, --start-delay MS (default 15000) after
                     the first of them arrives
  --name NAME        the run's name in the merged table and thresholds (default load)
  --metrics-port N   serve the generator's own counters at http://HOST:N/metrics while it runs
                     (default: LOAD_METRICS_PORT; unset: none)
`;

export const seedSchedule = 'bursts:total=2000,burst=350,gapMs=80';

/** Parses `kind:key=value,…` into a validated schedule spec, or every problem with it. */
export function parseScheduleArg(text: string): { spec?: ScheduleSpec; problems: string[] } {
  const [kind, rest = ''] = text.split(':', 2);
  const candidate: Record<string, unknown> = { kind };
  for (const pair of rest.split(',').filter(Boolean)) {
    const [key, value] = pair.split('=', 2);
    if (key === undefined || value === undefined || key === '') {
      return { problems: [`schedule: "${pair}" is not key=value`] };
    }
    candidate[key] = Number.isFinite(Number(value)) ? Number(value) : value;
  }
  if (kind === 'stages' || kind === 'spike') {
    return {
      problems: [`schedule: ${kind} needs a scenario file; use bursts, constant or ramp here`],
    };
  }
  const problems = taggedUnionProblems(
    ScheduleSpec,
    candidate,
    'kind',
    'schedule',
    (variant, value, path) => formatIssues(Value.Errors(variant as TSchema, value), path),
  );
  if (problems.length > 0) return { problems };
  return { spec: candidate as ScheduleSpec, problems: [] };
}

export function formatProgress(p: LoadProgress): string {
  const seconds = (p.elapsedMs / 1000).toFixed(1);
  return `${seconds}s  sent ${p.sent}/${p.scheduled}  ok ${p.ok}  failed ${p.failed}  dropped ${p.dropped}  in flight ${p.outstanding}`;
}

export function formatResult(result: LoadResult): string {
  const lines = [
    `target ${result.target}: ${result.sent} sent = ${result.ok} ok + ${result.failed} failed + ${result.dropped} dropped in ${(result.durationMs / 1000).toFixed(2)} s`,
    `latency from schedule  p50 ${result.latency.p50Ms} ms  p95 ${result.latency.p95Ms} ms  p99 ${result.latency.p99Ms} ms  max ${result.latency.maxMs} ms  mean ${result.latency.meanMs} ms`,
    `latency from send      p50 ${result.serviceLatency.p50Ms} ms  p99 ${result.serviceLatency.p99Ms} ms`,
    `generator lateness     p50 ${result.lateness.p50Ms} ms  p99 ${result.lateness.p99Ms} ms  max ${result.lateness.maxMs} ms (scheduled → written)`,
    `  of which its own     p50 ${result.pacing.p50Ms} ms  p99 ${result.pacing.p99Ms} ms (scheduled → handed to the pool; the rest waited for a connection)`,
    ...(result.bursts
      ? [
          `bursts                 ${result.bursts.count} of ${result.bursts.size}: left in p50 ${result.bursts.spreadP50Ms} ms, max ${result.bursts.spreadMaxMs} ms (first → last hand-over); first p99 ${result.bursts.startLatenessP99Ms} ms late`,
        ]
      : []),
    'outcomes:',
    ...Object.entries(result.outcomes)
      .sort(([, a], [, b]) => b - a)
      .map(([label, count]) => `  ${String(count).padStart(7)}  ${label}`),
    ...result.warnings.map((warning) => `warning: ${warning}`),
  ];
  return `${lines.join('\n')}\n`;
}

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
  const issues = formatIssues(Value.Errors(HttpRequestSpec, candidate), '');
  problems.push(
    ...issues.map((issue) =>
      issue
        .replace(/^method/, '--method')
        .replace(/^okStatuses(\[\d+\])?/, '--ok')
        .replace(/^body/, '--body')
        .replace(/^headers/, '--header'),
    ),
  );
  return issues.length > 0 ? undefined : (candidate as HttpRequestSpec);
}

/** `cascade-lab load`: one open-loop run against running services. Answers the exit code. */
export async function runLoadCommand(
  options: LoadCommandOptions,
  out: (text: string) => void,
  err: (text: string) => void,
  interactive: boolean,
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
  problems.push(...metricsPortProblems(options.metricsPort));
  const distributed =
    options.segment !== undefined ||
    options.out !== undefined ||
    options.resultsRedis !== undefined ||
    options.startAt !== undefined
      ? distributedFlags(options, '--out FILE', problems)
      : undefined;
  if (problems.length > 0 || parsed.spec === undefined) {
    err(`cascade-lab load: ${problems.join('\n  ')}\n\n${loadHelp}`);
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
      ...(share ? { indices: share.indices, record: true } : {}),
      ...(startAt === undefined ? {} : { startAt }),
      maxOutstanding: options.maxOutstanding,
      // Shared by a distributed run's generators: ids differ by the arrival's number.
      idPrefix: `load-${(startAt ?? Date.now()).toString(36)}`,
      onProgress: (progress) =>
        err(
          interactive ? `\r${formatProgress(progress)}\u001b[K` : `${formatProgress(progress)}\n`,
        ),
    }).finally(() => pool.close());
    await served?.close();
    if (interactive) err('\n');
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
