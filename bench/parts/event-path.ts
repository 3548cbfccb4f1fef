/** The event path (HTTP → producer → BullMQ → worker → downstream) against Queue.add + Worker in one script. */
import { Queue } from 'bullmq';
import { runLoad } from '../../load/generator/generator.ts';
import { waitForDrain } from '../../load/stack/queue-counts.ts';
import { constant } from '../../load/schedule/schedule.ts';
import { startStack } from '../../load/stack/stack.ts';
import { alternate, jsonChild, type PartResult, type Row } from '../harness.ts';
import { instantDownstream, log, median, round } from '../lib.ts';

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

export async function eventPath(rounds: number): Promise<PartResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  log(
    'event path: HTTP → producer → BullMQ → worker → downstream (concurrency 50) vs Queue.add + Worker in one script',
  );
  const stack = await startStack({
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
    const ours = async (count: number, rate: number) => {
      batch += 1;
      const idPrefix = `o${batch}-`;
      const started = performance.now();
      // Published by our open-loop generator at the rate the baseline adds its jobs.
      const load = await runLoad({
        target: 'events',
        baseUrl: stack.services.producer.url,
        offsetsMs: constant(rate, (count / rate) * 1000),
        idPrefix: idPrefix.slice(0, -1),
      });
      if (load.ok !== count) throw new Error(`only ${load.ok} of ${count} events were accepted`);
      total += count;
      await waitForDrain(stack.services.producer.url, {
        timeoutMs: 300_000,
        until: (counts) => counts.completed >= total,
        pollMs: 20,
      });
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
    // Throughput: 4 000 events published (ours) or added (baseline) at 4 000/s, until the last one is done.
    const [oursT, baseT] = await alternate(rounds, [
      () => ours(4000, 4000),
      () => baseline(4000, 4000),
    ]);
    // Latency: 500 events/s for 4 s.
    const [oursL, baseL] = await alternate(rounds, [
      () => ours(2000, 500),
      () => baseline(2000, 500),
    ]);
    const jobsRatio = round(median(oursT!.map((r, i) => r.jobsPerS / baseT![i]!.jobsPerS)), 2);
    const p99Ratio = round(median(oursL!.map((r, i) => r.p99Ms / baseL![i]!.p99Ms)), 2);
    rows.push(
      {
        what: 'event path: jobs/s (4 000 events at 4 000/s, worker concurrency 50)',
        ours: `${round(median(oursT!.map((r) => r.jobsPerS)), 0)}`,
        baseline: `${round(median(baseT!.map((r) => r.jobsPerS)), 0)}`,
        ratio: `${jobsRatio}×`,
        target: '≥ 0.8×',
        met: jobsRatio >= 0.8,
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
  return { rows, details };
}
