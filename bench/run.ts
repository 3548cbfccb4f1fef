/**
 * `npm run bench [-- part …]`: cascade-lab's own overhead against the leanest thing that
 * does the same job, on this machine, in one run. Pairs run back to back in alternating
 * order, five rounds each; the table reports medians, spread and ratios. Parts: gateway
 * (hop + metrics), breaker, generator, events, memory. Results go to bench/results/<date>.{json,md}.
 * All traffic goes to 127.0.0.1 and every run is bounded in time.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import CircuitBreaker from 'opossum';
import * as prettier from 'prettier';
import { request } from 'undici';
import { runLoad } from '../load/generator.ts';
import { Scrape } from '../load/prom-text.ts';
import { constant } from '../load/schedule.ts';
import { startStack, type Stack } from '../load/stack.ts';
import { buildGateway } from '../services/gateway/app.ts';
import { loadGatewayEnv, toGatewayConfig } from '../services/gateway/config.ts';
import {
  cpuSeconds,
  hammer,
  log,
  median,
  repoRoot,
  round,
  rssMiB,
  type Server,
  spawnServer,
  summarize,
} from './lib.ts';
import { memoryChart } from './svg-chart.ts';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The downstream answering at once and never failing: what is measured is the path, not the model. */
const instantDownstream = {
  BASE_LATENCY_MS: '0',
  JITTER_MS: '0',
  FAIL_PROBABILITY: '0',
  CAPACITY_RPS: '1000000',
};

interface Row {
  what: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}
const rows: Row[] = [];
const details: Record<string, unknown> = {};

/** Runs `fns` in a rotated order each round, so neither side always goes first. */
async function alternate<T>(rounds: number, fns: Array<() => Promise<T>>): Promise<T[][]> {
  const results: T[][] = fns.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < fns.length; k += 1) {
      const index = (k + round) % fns.length;
      results[index]!.push(await fns[index]!());
    }
  }
  return results;
}

async function gatewayHop() {
  log(
    'gateway hop: downstream (instant) · gateway (safe policy, metrics on) · gateway (metrics off) · minimal forwarder',
  );
  const downstream = await spawnServer('services/downstream/main.ts', instantDownstream);
  const env = { DOWNSTREAM_URL: downstream.url, LOG_LEVEL: 'info' };
  const servers: Server[] = [downstream];
  try {
    const gatewayOn = await spawnServer('bench/targets/gateway.ts', env, ['on']);
    const gatewayOff = await spawnServer('bench/targets/gateway.ts', env, ['off']);
    const forwarder = await spawnServer('bench/baselines/forwarder.ts', env);
    servers.push(gatewayOn, gatewayOff, forwarder);
    const shot = (server: Server) => () =>
      hammer(server.url, {
        path: '/rpc',
        body: JSON.stringify({ id: 'bench' }),
        connections: 32,
        durationS: 5,
      });
    for (const server of [gatewayOn, gatewayOff, forwarder])
      await hammer(server.url, { path: '/rpc', body: '{"id":"w"}', connections: 32, durationS: 2 });
    const [on, off, base] = await alternate(ROUNDS, [
      shot(gatewayOn),
      shot(gatewayOff),
      shot(forwarder),
    ]);
    for (const [name, results] of Object.entries({ on, off, base }))
      if (results!.some((r) => r.errors > 0 || r.non2xx > 0))
        log(`warning: ${name} had errors or non-2xx answers: ${JSON.stringify(results)}`);
    const rps = {
      on: on!.map((r) => r.rps),
      off: off!.map((r) => r.rps),
      base: base!.map((r) => r.rps),
    };
    const p99 = {
      on: on!.map((r) => r.p99Ms),
      off: off!.map((r) => r.p99Ms),
      base: base!.map((r) => r.p99Ms),
    };
    // Ratios per round (the pair ran back to back), then their median.
    const ratio = (a: number[], b: number[]) =>
      round(median(a.map((value, i) => value / b[i]!)), 2);
    const throughputRatio = ratio(rps.on, rps.base);
    const p99Ratio = ratio(p99.on, p99.base);
    rows.push(
      {
        what: 'gateway hop: throughput (req/s, 32 connections)',
        ours: `${summarize(rps.on).median}`,
        baseline: `${summarize(rps.base).median}`,
        ratio: `${throughputRatio}×`,
        target: '≥ 0.9×',
        met: throughputRatio >= 0.9,
      },
      {
        what: 'gateway hop: p99 latency (ms)',
        ours: `${summarize(p99.on).median}`,
        baseline: `${summarize(p99.base).median}`,
        ratio: `${p99Ratio}×`,
        target: '≤ 1.2×',
        met: p99Ratio <= 1.2,
      },
    );
    const metricsCost = round(1 - median(rps.on.map((value, i) => value / rps.off[i]!)), 3);
    rows.push({
      what: 'metrics: throughput cost (gateway, on vs off)',
      ours: `${summarize(rps.on).median} req/s`,
      baseline: `${summarize(rps.off).median} req/s`,
      ratio: `${round(metricsCost * 100, 1)} % slower`,
      target: '≤ 5 %',
      met: metricsCost <= 0.05,
    });
    // /metrics serialisation, in process: a gateway that has served traffic, GET /metrics 200 times.
    const app = buildGateway(
      toGatewayConfig(loadGatewayEnv({ DOWNSTREAM_URL: downstream.url })),
      {},
    );
    for (let i = 0; i < 500; i += 1)
      await app.inject({ method: 'POST', url: '/rpc', payload: { id: `m${i}` } });
    const timings: number[] = [];
    for (let i = 0; i < 200; i += 1) {
      const started = performance.now();
      await app.inject({ method: 'GET', url: '/metrics' });
      timings.push(performance.now() - started);
    }
    await app.close();
    const serialise = round(median(timings), 3);
    rows.push({
      what: 'metrics: GET /metrics (gateway, in process, median of 200)',
      ours: `${serialise} ms`,
      baseline: '—',
      ratio: '—',
      target: '≤ 1 ms',
      met: serialise <= 1,
    });
    details.gatewayHop = {
      rps: { on: summarize(rps.on), off: summarize(rps.off), baseline: summarize(rps.base) },
      p99Ms: { on: summarize(p99.on), off: summarize(p99.off), baseline: summarize(p99.base) },
      metricsSerialiseMs: summarize(timings),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}

/** A child process that prints one JSON line when done. */
async function jsonChild(file: string, args: string[]): Promise<Record<string, number>> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, file), ...args],
    {
      cwd: repoRoot,
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

async function wrkCpuPerRequest(url: string): Promise<{ requests: number; cpuS: number } | null> {
  const find = () =>
    run('sh', ['-c', 'command -v wrk']).then(
      ({ stdout }) => stdout.trim(),
      () => '',
    );
  let wrk = await find();
  if (!wrk && process.getuid?.() === 0) {
    log("wrk is missing: installing Debian's wrk (apt-get install wrk)");
    await run('sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk',
    ]).catch((error: Error) => log(`apt-get install wrk failed: ${error.message.split('\n')[0]}`));
    wrk = await find();
  }
  if (!wrk) {
    log('wrk is missing (apt-get install wrk); the generator is compared with autocannon only');
    return null;
  }
  const script = path.join(repoRoot, 'bench/baselines/post.lua');
  const child = spawn(wrk, ['-t1', '-c64', '-d5s', '-s', script, `${url}/rpc`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let cpu = 0;
  const sampler = setInterval(() => {
    try {
      cpu = cpuSeconds(child.pid!);
    } catch {
      /* exited */
    }
  }, 100);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { requests, cpuS: cpu };
}

async function generator() {
  log(
    'load generator: ours vs autocannon at 5 000 req/s against a bare node:http server; wrk at full speed',
  );
  const echo = await spawnServer('bench/baselines/echo.ts');
  try {
    const rate = 5000;
    const durationMs = 4000;
    const ours = () =>
      jsonChild('bench/targets/generator.ts', [echo.url, String(rate), String(durationMs)]);
    const cannon = () =>
      jsonChild('bench/baselines/autocannon-rate.ts', [echo.url, String(rate), String(durationMs)]);
    const [oursRuns, cannonRuns] = await alternate(ROUNDS, [ours, cannon]);
    const perRequestUs = (r: Record<string, number>) => (r.cpuS! / r.sent!) * 1e6;
    const oursUs = oursRuns!.map(perRequestUs);
    const cannonUs = cannonRuns!.map(perRequestUs);
    const cpuRatio = round(median(oursUs.map((value, i) => value / cannonUs[i]!)), 2);
    rows.push({
      what: 'load generator: CPU per request at 5 000 req/s (µs)',
      ours: `${round(median(oursUs), 1)}`,
      baseline: `${round(median(cannonUs), 1)} (autocannon)`,
      ratio: `${cpuRatio}×`,
      target: '≤ 1×',
      met: cpuRatio <= 1,
    });
    const lateness = oursRuns!.map((r) => r.latenessP99Ms!);
    rows.push({
      what: 'load generator: schedule lateness p99 at 5 000 req/s (ms)',
      ours: `${round(median(lateness), 3)}`,
      baseline: '—',
      ratio: '—',
      target: '≤ 0.5 ms',
      met: median(lateness) <= 0.5,
    });
    const wrk = await wrkCpuPerRequest(echo.url);
    // The highest rate at which the median of three runs left within 0.5 ms of schedule (p99) and none failed.
    let clean = 0;
    const steps: Array<Record<string, number>> = [];
    // Each step three times, judged on the median run (one noisy neighbour must not end the search).
    for (const step of [1000, 2000, 3000, 4000, 6000, 8000, 10_000, 15_000, 20_000]) {
      const tries: Array<Record<string, number>> = [];
      for (let k = 0; k < 3; k += 1)
        tries.push(await jsonChild('bench/targets/generator.ts', [echo.url, String(step), '3000']));
      tries.sort((a, b) => a.latenessP99Ms! - b.latenessP99Ms!);
      const result = tries[1]!;
      steps.push({ rate: step, ...result });
      log(
        `  ${step} req/s: lateness p99 ${tries.map((t) => t.latenessP99Ms).join(' / ')} ms, failed ${result.failed}, dropped ${result.dropped}`,
      );
      if (result.latenessP99Ms! > 0.5 || result.failed! > 0 || result.dropped! > 0) break;
      clean = step;
    }
    rows.push({
      what: 'load generator: highest clean open-loop rate (req/s)',
      ours: `${clean}`,
      baseline: wrk
        ? `wrk closed loop: ${round(wrk.requests / 5, 0)} req/s, ${round((wrk.cpuS / wrk.requests) * 1e6, 1)} µs CPU/req`
        : '—',
      ratio: '—',
      target: 'report',
      met: null,
    });
    details.generator = {
      cpuPerRequestUs: { ours: summarize(oursUs), autocannon: summarize(cannonUs) },
      latenessP99Ms: summarize(lateness),
      steps,
      wrk,
    };
  } finally {
    await echo.stop();
  }
}

/** End-to-end (finishedOn − timestamp, both set in Redis) of completed jobs whose id starts with `prefix`. */
async function e2eFromRedis(
  redisUrl: string,
  queueName: string,
  bullPrefix: string,
  idPrefix: string,
) {
  const queue = new Queue(queueName, { connection: { url: redisUrl }, prefix: bullPrefix });
  try {
    const jobs = await queue.getJobs(['completed'], 0, -1);
    const latencies = jobs
      .filter((job) => job.id?.startsWith(idPrefix) && job.finishedOn)
      .map((job) => job.finishedOn! - job.timestamp)
      .sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    return { count: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await queue.close();
  }
}

async function queueIdle(stack: Stack, total: number) {
  for (;;) {
    const response = await request(`${stack.services.producer.url}/admin/queue`);
    const counts = (await response.body.json()) as Record<string, number>;
    if (
      counts.completed! >= total &&
      counts.waiting === 0 &&
      counts.active === 0 &&
      counts.delayed === 0
    )
      return;
    await sleep(20);
  }
}

async function eventPath() {
  log(
    'event path: HTTP → producer → BullMQ → worker → downstream (concurrency 50) vs Queue.add + Worker in one script',
  );
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...instantDownstream,
  };
  delete env.REDIS_URL;
  delete env.ADMIN_TOKEN;
  const stack = await startStack({
    env,
    queueName: 'bench-events',
    serviceEnv: {
      downstream: instantDownstream,
      worker: { CONCURRENCY: '50' },
      producer: { MAX_DEPTH: '1000000' },
    },
  });
  try {
    const redisUrl = stack.redis.url;
    let total = 0;
    let batch = 0;
    const ours = async (count: number, rate?: number) => {
      batch += 1;
      const idPrefix = `o${batch}-`;
      const started = performance.now();
      if (rate === undefined) {
        // Throughput: autocannon publishes over 50 connections, as fast as the producer
        // answers (our generator holds a schedule by spinning, which would take a core).
        let next = 0;
        const published = await autocannon({
          url: stack.services.producer.url,
          requests: [
            {
              method: 'POST',
              path: '/events',
              headers: { 'content-type': 'application/json' },
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({ id: `${idPrefix}${next++}` }),
              }),
            },
          ],
          amount: count,
          connections: 50,
        });
        if (published['2xx'] !== count)
          throw new Error(`only ${published['2xx']} of ${count} events were accepted`);
      } else {
        // Latency: a steady open-loop schedule (autocannon's rate limit sends in bursts).
        const load = await runLoad({
          target: 'events',
          baseUrl: stack.services.producer.url,
          offsetsMs: constant(rate, (count / rate) * 1000),
          idPrefix: idPrefix.slice(0, -1),
        });
        if (load.ok !== count) throw new Error(`only ${load.ok} of ${count} events were accepted`);
      }
      total += count;
      await queueIdle(stack, total);
      const seconds = (performance.now() - started) / 1000;
      return {
        jobsPerS: count / seconds,
        ...(await e2eFromRedis(redisUrl, 'bench-events', 'cascade', idPrefix)),
      };
    };
    const baseline = async (count: number, rate: number) => {
      batch += 1;
      const queueName = `bench-baseline-${batch}`;
      const result = await jsonChild('bench/baselines/bullmq.ts', [
        redisUrl,
        queueName,
        stack.services.downstream.url,
        String(count),
        String(rate),
        '50',
      ]);
      return {
        jobsPerS: count / result.seconds!,
        ...(await e2eFromRedis(redisUrl, queueName, 'bull', 'b-')),
      };
    };
    await ours(500, 500);
    // Throughput: 4 000 events (ours: published over 50 connections as fast as the producer
    // answers; baseline: added at 4 000/s), until the last one is done.
    const [oursT, baseT] = await alternate(ROUNDS, [() => ours(4000), () => baseline(4000, 4000)]);
    // Latency: 500 events/s for 4 s.
    const [oursL, baseL] = await alternate(ROUNDS, [
      () => ours(2000, 500),
      () => baseline(2000, 500),
    ]);
    const jobsRatio = round(median(oursT!.map((r, i) => r.jobsPerS / baseT![i]!.jobsPerS)), 2);
    const p99Ratio = round(median(oursL!.map((r, i) => r.p99Ms / baseL![i]!.p99Ms)), 2);
    rows.push(
      {
        what: 'event path: jobs/s (4 000 events, worker concurrency 50)',
        ours: `${round(median(oursT!.map((r) => r.jobsPerS)), 0)}`,
        baseline: `${round(median(baseT!.map((r) => r.jobsPerS)), 0)}`,
        ratio: `${jobsRatio}×`,
        target: '≥ 0.7×',
        met: jobsRatio >= 0.7,
      },
      {
        what: 'event path: end-to-end p99 at 500 events/s (ms)',
        ours: `${median(oursL!.map((r) => r.p99Ms))}`,
        baseline: `${median(baseL!.map((r) => r.p99Ms))}`,
        ratio: `${p99Ratio}×`,
        target: '≤ 2×',
        met: p99Ratio <= 2,
      },
    );
    details.eventPath = {
      throughput: { ours: oursT, baseline: baseT },
      latency: { ours: oursL, baseline: baseL },
    };
  } finally {
    await stack.stop();
  }
}

async function memory() {
  log(
    'memory: every service at rest for 10 s, then 60 s of 10× overload on both paths, then 10 s after',
  );
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.REDIS_URL;
  delete env.ADMIN_TOKEN;
  const stack = await startStack({
    env,
    queueName: 'bench-memory',
  });
  const curve: Array<{ atS: number; phase: string; rssMiB: Record<string, number> }> = [];
  const peaks = { bulkheadQueued: 0, queueDepth: 0 };
  let phase = 'rest';
  const started = performance.now();
  const sampler = setInterval(() => {
    const rss: Record<string, number> = {};
    for (const [name, service] of Object.entries(stack.services))
      rss[name] = round(rssMiB(service.pid), 1);
    const point = { atS: round((performance.now() - started) / 1000, 1), phase, rssMiB: rss };
    curve.push(point);
    void Promise.all([
      Scrape.of(stack.services.gateway.url),
      Scrape.of(stack.services.producer.url),
    ]).then(
      ([gateway, producer]) => {
        peaks.bulkheadQueued = Math.max(
          peaks.bulkheadQueued,
          gateway.sum('gateway_bulkhead_queued'),
        );
        peaks.queueDepth = Math.max(
          peaks.queueDepth,
          producer.sum('producer_queue_depth_estimate'),
        );
      },
      () => undefined,
    );
  }, 2000);
  try {
    await sleep(10_000);
    phase = 'overload';
    // Capacity is 250 req/s; 10× is 2 500 req/s on each path.
    const loads = await Promise.all(
      (['rpc', 'events'] as const).map((target) =>
        runLoad({
          target,
          baseUrl: target === 'rpc' ? stack.services.gateway.url : stack.services.producer.url,
          offsetsMs: constant(2500, 60_000),
          idPrefix: `mem-${target}`,
          maxOutstanding: 5000,
        }),
      ),
    );
    phase = 'after';
    await sleep(10_000);
    const byService = Object.fromEntries(
      Object.keys(stack.services).map((name) => {
        const values = (p: string) =>
          curve.filter((point) => point.phase === p).map((point) => point.rssMiB[name]!);
        return [
          name,
          {
            rest: median(values('rest')),
            peak: Math.max(...values('overload')),
            after: values('after').at(-1),
          },
        ];
      }),
    );
    for (const [name, v] of Object.entries(byService))
      rows.push({
        what: `memory: ${name} RSS (MiB) at rest → peak under 10× → 10 s after`,
        ours: `${round(v.rest, 0)} → ${round(v.peak, 0)} → ${round(v.after ?? Number.NaN, 0)}`,
        baseline: 'itself at rest',
        ratio: `${round(v.peak / v.rest, 2)}× peak`,
        target: 'bounded',
        met: null,
      });
    rows.push({
      what: 'memory: queues under 10× (bulkhead queue ≤ 2 000, event queue ≤ MAX_DEPTH 5 000, generator ≤ 5 000 outstanding)',
      ours: `bulkhead ${peaks.bulkheadQueued}, queue ${peaks.queueDepth}`,
      baseline: '—',
      ratio: '—',
      target: 'bounded',
      met: peaks.bulkheadQueued <= 2000 && peaks.queueDepth <= 5000,
    });
    details.memory = {
      curve,
      peaks,
      load: loads.map((l) => ({
        target: l.target,
        sent: l.sent,
        ok: l.ok,
        failed: l.failed,
        dropped: l.dropped,
      })),
    };
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
}

/**
 * opossum as the breaker layer configures it, with rolling percentiles as opossum
 * defaults them (before) and off (after), 30 % of calls failing, 1 s per measurement.
 */
async function breakerCost() {
  log(
    'breaker: opossum per call at 30 % failures, rolling percentiles on (opossum default) vs off (ours)',
  );
  const perCallUs = async (rollingPercentilesEnabled: boolean) => {
    const breaker = new CircuitBreaker(
      async (fail: boolean) => {
        if (fail) throw new Error('downstream_error');
        return 1;
      },
      {
        timeout: false,
        resetTimeout: 500,
        rollingCountTimeout: 1000,
        rollingCountBuckets: 10,
        volumeThreshold: 20,
        errorThresholdPercentage: 40 - 1e-9,
        rollingPercentilesEnabled,
      },
    );
    let calls = 0;
    const started = performance.now();
    while (performance.now() - started < 1000) {
      await breaker.fire(calls % 10 < 3).catch(() => undefined);
      calls += 1;
    }
    breaker.shutdown();
    return ((performance.now() - started) / calls) * 1000;
  };
  const [before, after] = await alternate(ROUNDS, [() => perCallUs(true), () => perCallUs(false)]);
  rows.push({
    what: 'gateway breaker (opossum) per call at 30 % failures (µs)',
    ours: `${round(median(after!), 2)} (percentiles off)`,
    baseline: `${round(median(before!), 2)} (opossum default)`,
    ratio: `${round(median(after!.map((a, i) => a / before![i]!)), 4)}×`,
    target: 'before/after',
    met: null,
  });
  details.breaker = { beforeUs: summarize(before!), afterUs: summarize(after!) };
}

const parts: Record<string, () => Promise<void>> = {
  gateway: gatewayHop,
  breaker: breakerCost,
  generator,
  events: eventPath,
  memory,
};
const chosen = process.argv.slice(2).filter((arg) => arg in parts);
const started = new Date();
for (const name of chosen.length > 0 ? chosen : Object.keys(parts)) {
  const t = performance.now();
  await parts[name]!();
  log(`${name} done in ${round((performance.now() - t) / 1000, 1)} s`);
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${round(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;
const table = [
  '| what | ours | baseline | ratio | target | met |',
  '| --- | ---: | ---: | ---: | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`,
  ),
].join('\n');
const day = started.toISOString().slice(0, 10);
const dir = path.join(repoRoot, 'bench/results');
mkdirSync(dir, { recursive: true });
// Written in the repository's own format, so the results can be committed as they are.
const write = async (file: string, text: string) => {
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
};
await write(
  path.join(dir, `${day}.json`),
  JSON.stringify({ startedAt: started.toISOString(), machine, rounds: ROUNDS, rows, details }),
);
await write(
  path.join(dir, `${day}.md`),
  `# cascade-lab benchmarks, ${day}\n\n${machine}; ${ROUNDS} rounds per pair, medians (ratios are medians of per-round ratios).\n\n${table}\n`,
);
const memoryDetails = details.memory as { curve: Parameters<typeof memoryChart>[0] } | undefined;
if (memoryDetails)
  writeFileSync(path.join(dir, `${day}-memory.svg`), memoryChart(memoryDetails.curve));
process.stdout.write(
  `${machine}\n\n${table}\n\nwritten: bench/results/${day}.json, bench/results/${day}.md\n`,
);
