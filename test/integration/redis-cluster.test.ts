import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDlq } from '../../load/cli/dlq.ts';
import { readQueueCounts } from '../../load/stack/queue-counts.ts';
import { startStack } from '../../load/stack/stack.ts';
import { defaultClusterQueuePrefix } from '../../services/shared/queue-env.ts';
import {
  parseClusterNodes,
  type RedisClusterTarget,
} from '../../services/shared/redis-connection.ts';
import {
  failWithoutDeadLettering,
  inspectQueues,
  publish,
  startProducer,
  startWorker,
  waitUntilSettled,
} from '../support/event-path.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { type LocalRedisCluster, startRedisCluster } from '../../load/stack/redis-cluster.ts';
import { closeAfterEach, startDownstream } from '../support/rpc-path.ts';

const prefix = defaultClusterQueuePrefix;
const ids = (label: string, count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `${label}-${from + i}`);
const sortedUnion = (...lists: string[][]) => [...new Set(lists.flat())].sort();

async function dbsize(port: number): Promise<number> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    return await client.dbsize();
  } finally {
    client.disconnect();
  }
}

describe('the event path on a Redis Cluster (three masters, three replicas, local processes)', () => {
  let cluster: LocalRedisCluster;
  let target: RedisClusterTarget;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 1000 });
    target = parseClusterNodes(cluster.seeds) as RedisClusterTarget;
  });
  afterAll(async () => cluster?.stop());

  it(
    'accounts for every accepted event across a worker SIGKILL, sweeps, dead-letters and redrives on the cluster, all in one slot',
    { timeout: 180_000 },
    async () => {
      const queues = inspectQueues(target, 'orders', prefix);
      // Two jobs a crashed worker failed for good but never dead-lettered: the sweeper's.
      const swept = ['swept-1', 'swept-2'];
      const crashed = await failWithoutDeadLettering(target, 'orders', prefix, swept, 'crashed');
      await eventually(async () => expect(await queues.failedIds()).toHaveLength(2));
      await crashed.close();

      const stack = await startStack({
        redisClusterNodes: cluster.seeds,
        queueName: 'orders',
        serviceEnv: {
          producer: { MAX_RETRIES: '2' },
          // A job of a killed worker comes back once its lock lapses (2 s).
          worker: { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', CONCURRENCY: '8' },
          downstream: { BASE_LATENCY_MS: '20', JITTER_MS: '0', FAIL_PROBABILITY: '0.3' },
        },
      });
      try {
        const producer = stack.services.producer.url;
        const first = await publish(producer, ids('order', 150), 8);
        // Mid-run: the worker dies with jobs in hand, and an orchestrator starts another.
        await eventually(async () =>
          expect(await scrape(stack.workers[0]!.url, 'worker_jobs_total')).toBeGreaterThan(30),
        );
        await stack.restartWorker(0);
        const second = await publish(producer, ids('order', 150, 150), 8);
        const accepted = [...first.accepted, ...second.accepted];
        expect(accepted).toHaveLength(300);
        await waitUntilSettled(producer, accepted.length + swept.length, 90_000);

        const completed = await queues.completedIds();
        const deadLettered = await queues.deadLetteredIds();
        expect(completed.filter((id) => deadLettered.includes(id))).toEqual([]);
        expect([...completed, ...deadLettered].sort()).toEqual([...accepted, ...swept].sort());
        expect(deadLettered).toEqual(expect.arrayContaining(swept));
        // With p = 0.3 and 3 attempts, about 2.7 % end in the DLQ.
        expect(deadLettered.length).toBeGreaterThan(0);
        // The runner's view (the producer's counts) says the same.
        expect(await readQueueCounts(producer)).toMatchObject({
          completed: completed.length,
          deadLettered: deadLettered.length,
          waiting: 0,
          active: 0,
          failed: 0,
        });

        // The DLQ CLI on the cluster: the fault is gone, every dead letter completes.
        await call(`${stack.services.downstream.url}/admin/faults`, {
          method: 'PUT',
          body: { model: { failProbability: 0 } },
        });
        const lines: string[] = [];
        const code = await runDlq(
          'redrive',
          { redis: target, queueName: 'orders', prefix, limit: 50, all: true, dryRun: false },
          (text) => lines.push(text),
        );
        expect({ code, lines }).toEqual({
          code: 0,
          lines: [`redrove ${deadLettered.length} jobs to orders\n`],
        });
        await waitUntilSettled(producer, accepted.length + swept.length, 60_000);
        expect(await queues.deadLetteredIds()).toEqual([]);
        expect((await queues.completedIds()).sort()).toEqual([...accepted, ...swept].sort());

        // Every key of the queue hashes to {cascade}'s slot: one master (and its replica) holds them all.
        const { master, replicas } = await cluster.ownersOf(prefix);
        const shard = [master, ...replicas];
        expect(await dbsize(master.port)).toBeGreaterThan(300);
        const elsewhere = cluster.nodes.filter((node) => !shard.includes(node));
        expect(await Promise.all(elsewhere.map(({ port }) => dbsize(port)))).toEqual([0, 0, 0, 0]);
      } finally {
        await queues.close();
        await stack.stop();
      }
    },
  );

  describe('a master killed, its replica taking over', () => {
    const { keep, open } = closeAfterEach();

    /**
     * Two producers side by side on their own queues, one answering 202 at once and one
     * after a replica acknowledged the add (WAIT); a worker each. Every node of the
     * cluster is up and in sync first (a node an earlier test killed is started again).
     */
    async function twoPaths() {
      await cluster.reviveAll(prefix);
      const downstream = keep(await startDownstream({ baseLatencyMs: 2 }));
      const paths: Array<{
        label: string;
        producer: { url: string };
        queues: ReturnType<typeof inspectQueues>;
      }> = [];
      for (const [label, publishWaitReplicas] of [
        ['async', 0],
        ['waited', 1],
      ] as const) {
        const queueName = `${label}-${Date.now()}`;
        const producer = keep(
          await startProducer(
            target,
            queueName,
            { keepCompleted: 100_000 },
            { queuePrefix: prefix, publishWaitReplicas, publishTimeoutMs: 300 },
          ),
        );
        keep(
          await startWorker(target, queueName, downstream.url, {
            queuePrefix: prefix,
            lockDurationMs: 2000,
            stalledIntervalMs: 1000,
          }),
        );
        const queues = inspectQueues(target, queueName, prefix);
        open.push(queues);
        paths.push({ label, producer, queues });
      }
      /** The accepted ids each path still holds once drained, and those it lost. */
      const survivors = async (accepted: string[][]) => {
        const figures = [];
        for (const [index, path] of paths.entries()) {
          await waitUntilSettled(path.producer.url, 0, 60_000);
          const present = sortedUnion(
            await path.queues.completedIds(),
            await path.queues.deadLetteredIds(),
          );
          const lost = accepted[index]!.filter((id) => !present.includes(id));
          figures.push({ path: path.label, accepted: accepted[index]!.length, lost: lost.length });
        }
        return figures;
      };
      return { paths, survivors };
    }

    /**
     * A healthy phase, then the replica's link is cut (its master refuses it PSYNC and
     * drops it: a partition between the two), more events, then the master dies.
     */
    it(
      'loses the 202-acknowledged events the replica never got, unless the producer waits for it',
      { timeout: 180_000 },
      async () => {
        const { paths, survivors } = await twoPaths();
        /** Each producer in turn, so both see the same moments. */
        const publishBoth = (phase: string, count: number) =>
          Promise.all(paths.map((path) => publish(path.producer.url, ids(phase, count), 4)));
        const healthy = await publishBoth('healthy', 200);
        expect(healthy.map(({ accepted }) => accepted.length)).toEqual([200, 200]);

        const { master, replicas } = await cluster.ownersOf(prefix);
        const admin = new Redis(master.port, '127.0.0.1');
        await admin.call('ACL', 'SETUSER', 'default', '-psync', '-sync');
        expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(replicas.length);
        admin.disconnect();
        const cut = await publishBoth('cut', 40);
        // Without the wait every one is acknowledged; with it none is (the replica is away).
        expect(cut[0]!.accepted).toHaveLength(40);
        expect(cut[1]!.accepted).toEqual([]);
        expect(cut[1]!.statuses.every((status) => status === 503)).toBe(true);

        const takeover = await cluster.killMaster(prefix);
        expect(replicas).toContain(takeover.promoted);
        // Back in service on the new master, which has no replica yet: the waited path says so.
        await eventually(async () => {
          const after = await publishBoth(`after-${Date.now()}`, 1);
          expect(after.map(({ statuses }) => statuses)).toEqual([[202], [503]]);
        }, 30_000);

        const figures = await survivors(
          paths.map((_, i) => [...healthy[i]!.accepted, ...cut[i]!.accepted]),
        );
        // The async path acknowledged the cut phase on the master alone: all of it is gone.
        expect(figures).toEqual([
          { path: 'async', accepted: 240, lost: 40 },
          { path: 'waited', accepted: 200, lost: 0 },
        ]);
        process.stdout.write(
          `replica link cut, then master killed (${Math.round(takeover.takeoverMs)} ms to take over): ${JSON.stringify(figures)}\n`,
        );
      },
    );

    it(
      'keeps every event the waited path acknowledged when its master dies mid-publish',
      { timeout: 180_000 },
      async () => {
        const { paths, survivors } = await twoPaths();
        // Both publish without pause, in parallel, while the master of their slot is killed.
        let publishing = true;
        const loops = paths.map(async (path) => {
          const accepted: string[] = [];
          const statuses = new Map<number, number>();
          for (let batch = 0; publishing; batch += 1) {
            const result = await publish(path.producer.url, ids(`live-${batch}`, 8), 4);
            accepted.push(...result.accepted);
            for (const status of result.statuses)
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
          return { accepted, statuses: Object.fromEntries(statuses) };
        });
        await eventually(async () =>
          expect(
            await scrape(paths[1]!.producer.url, 'producer_events_total', { outcome: 'accepted' }),
          ).toBeGreaterThan(100),
        );
        const takeover = await cluster.killMaster(prefix);
        // Until the async path has taken 20 more on the new master.
        const accepted = () =>
          scrape(paths[0]!.producer.url, 'producer_events_total', { outcome: 'accepted' });
        const atTakeover = await accepted();
        await eventually(async () => expect(await accepted()).toBeGreaterThan(atTakeover + 20));
        publishing = false;
        const outcomes = await Promise.all(loops);
        const figures = await survivors(outcomes.map(({ accepted }) => accepted));
        expect(figures[1]).toMatchObject({ path: 'waited', lost: 0 });
        expect(figures[0]!.lost).toBeLessThanOrEqual(figures[0]!.accepted);
        process.stdout.write(
          `master killed mid-publish (${Math.round(takeover.takeoverMs)} ms to take over): ${JSON.stringify(figures.map((figure, i) => ({ ...figure, answers: outcomes[i]!.statuses })))}\n`,
        );
      },
    );
  });
});
