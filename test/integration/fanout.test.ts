import { describe, expect, it } from 'vitest';
import { subscriberQueue } from '../../services/shared/topic.ts';
import { runDlq } from '../../load/cli/dlq.ts';
import {
  inspectQueues,
  publish,
  startProducer,
  startWorker,
  testPrefix,
} from '../support/event-path.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';
import { startDownstream } from '../support/rpc-path.ts';
import { startOwnRedis } from '../support/own-redis.ts';

const { redis: currentRedis, open } = useRedisPerFile();
const subscribers = ['billing', 'audit', 'analytics'];

interface SubscriberCounts {
  name: string;
  waiting: number;
  completed: number;
  deadLettered: number;
}
const queueCounts = async (producerUrl: string) =>
  (await call(`${producerUrl}/admin/queue`)).body as unknown as {
    completed: number;
    subscribers: SubscriberCounts[];
  };

describe('a topic with subscribers', () => {
  it('puts one job for each event in every subscriber’s queue, and counts each subscriber on its own', async () => {
    const topic = uniqueQueueName('fan');
    const producer = await startProducer(currentRedis().url, topic, {}, { subscribers });
    open.push(producer.app);
    const { accepted } = await publish(producer.url, ['e1', 'e2', 'e3']);
    expect(accepted.sort()).toEqual(['e1', 'e2', 'e3']);
    for (const name of subscribers) {
      const queues = inspectQueues(currentRedis().url, subscriberQueue(topic, name));
      open.push(queues);
      expect(await queues.main.getWaitingCount(), name).toBe(3);
    }
    const counts = await queueCounts(producer.url);
    expect(counts.subscribers.map(({ name, waiting }) => [name, waiting])).toEqual(
      subscribers.map((name) => [name, 3]),
    );
    // An event id is published once per topic: a repeat is a duplicate for every subscriber.
    const again = await call(`${producer.url}/events`, { body: { id: 'e1' } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ jobId: 'e1', duplicate: true });
    expect((await queueCounts(producer.url)).subscribers.map(({ waiting }) => waiting)).toEqual([
      3, 3, 3,
    ]);
  });

  it(
    'never leaves a partial fan-out: killed mid-publish, Redis holds every event in all queues or in none',
    { timeout: 60_000 },
    async () => {
      const own = await startOwnRedis({ appendOnly: true, appendFsync: 'always' });
      open.push({ close: () => own.stop() });
      const topic = uniqueQueueName('atomic');
      const producer = await startProducer(
        own.url,
        topic,
        { maxDepth: 1_000_000 },
        { subscribers, publishTimeoutMs: 500 },
      );
      open.unshift(producer.app);
      const statuses = new Map<string, number>();
      let next = 0;
      let publishing = true;
      let lastStatus = 0;
      // Eight publishers at once, so the kill lands while publishes are in flight.
      const publishers = Array.from({ length: 8 }, async () => {
        while (publishing) {
          const id = `p-${next++}`;
          const status = await call(`${producer.url}/events`, { body: { id } }).then(
            (response) => response.status,
            () => 0,
          );
          statuses.set(id, status);
          lastStatus = status;
          // While Redis is down the producer fails fast: no need to try thousands of ids.
          if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      await eventually(() => expect(next).toBeGreaterThan(50), 20_000);
      await own.kill();
      // Down long enough for publishes to fail, then back with its AOF.
      await eventually(() => expect([...statuses.values()]).toContain(503), 20_000);
      await own.restart();
      await eventually(() => expect(lastStatus).toBe(202), 30_000);
      publishing = false;
      await Promise.all(publishers);

      const present = await Promise.all(
        subscribers.map(async (name) => {
          const queues = inspectQueues(own.url, subscriberQueue(topic, name));
          const ids = new Set((await queues.main.getJobs(['waiting'], 0, -1)).map((job) => job.id));
          await queues.close();
          return ids;
        }),
      );
      const everyId = new Set(present.flatMap((ids) => [...ids]));
      for (const id of everyId)
        expect(
          present.map((ids) => ids.has(id)),
          `${id} is in every subscriber's queue or in none`,
        ).toEqual([true, true, true]);
      // Nothing that got a 202 was lost by the crash (AOF, fsync always).
      for (const [id, status] of statuses)
        if (status === 202) expect(everyId.has(id), id).toBe(true);
    },
  );

  it(
    'keeps a failing subscriber to itself: the others finish everything while its DLQ fills, and it is redriven alone',
    { timeout: 60_000 },
    async () => {
      const topic = uniqueQueueName('isolate');
      const downstream = await startDownstream();
      open.push(downstream.app);
      // billing's calls fail; audit's and analytics' do not.
      await call(`${downstream.url}/admin/faults`, {
        method: 'PUT',
        body: { faults: [{ kind: 'error', durationMs: 600_000, caller: 'worker/billing' }] },
      });
      const producer = await startProducer(
        currentRedis().url,
        topic,
        { maxRetries: 1 },
        { subscribers },
      );
      open.push(producer.app);
      for (const subscriber of subscribers) {
        const worker = await startWorker(currentRedis().url, topic, downstream.url, { subscriber });
        open.push(worker.app);
      }
      const ids = Array.from({ length: 40 }, (_, i) => `i-${i}`);
      const { accepted } = await publish(producer.url, ids);
      expect(accepted).toHaveLength(40);
      await eventually(async () => {
        const counts = await queueCounts(producer.url);
        expect(
          counts.subscribers.map(({ name, completed, deadLettered }) => [
            name,
            completed,
            deadLettered,
          ]),
        ).toEqual([
          ['billing', 0, 40],
          ['audit', 40, 0],
          ['analytics', 40, 0],
        ]);
      }, 30_000);
      // Each subscriber's calls carried its own caller name and idempotency keys.
      const calls = (outcome: string, caller: string) =>
        scrape(downstream.url, 'downstream_requests_total', { outcome, caller });
      expect(await calls('fault_error', 'worker/billing')).toBe(80);
      expect(
        await scrape(downstream.url, 'downstream_requests_total', { outcome: 'fault_error' }),
      ).toBe(80);
      expect(await calls('ok', 'worker/audit')).toBeGreaterThanOrEqual(40);
      expect(await calls('ok', 'worker/analytics')).toBeGreaterThanOrEqual(40);
      expect(await scrape(downstream.url, 'downstream_duplicate_effects_total')).toBe(0);

      // The fault is over; billing's dead letters go back to billing's queue only.
      await call(`${downstream.url}/admin/faults`, { method: 'DELETE' });
      const lines: string[] = [];
      const code = await runDlq(
        'redrive',
        {
          redis: currentRedis().url,
          queueName: subscriberQueue(topic, 'billing'),
          prefix: testPrefix,
          limit: 50,
          all: true,
          dryRun: false,
        },
        (text) => lines.push(text),
      );
      expect(code).toBe(0);
      expect(lines.join('')).toContain(`redrove 40 jobs to ${topic}.billing`);
      await eventually(async () => {
        const counts = await queueCounts(producer.url);
        expect(
          counts.subscribers.map(({ completed, deadLettered }) => [completed, deadLettered]),
        ).toEqual([
          [40, 0],
          [40, 0],
          [40, 0],
        ]);
      }, 30_000);
    },
  );

  it('queues a dead-lettered event published again for the subscribers that no longer hold it, whichever comes first', async () => {
    const topic = uniqueQueueName('again');
    const downstream = await startDownstream();
    open.push(downstream.app);
    await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'error', durationMs: 600_000, caller: 'worker/billing' }] },
    });
    // billing second: the producer must not judge a publish by its first subscriber only.
    const order = ['audit', 'billing'];
    const producer = await startProducer(
      currentRedis().url,
      topic,
      { maxRetries: 0 },
      { subscribers: order },
    );
    open.push(producer.app);
    for (const subscriber of order) {
      const worker = await startWorker(currentRedis().url, topic, downstream.url, { subscriber });
      open.push(worker.app);
    }
    const done = (expected: number[][]) =>
      eventually(async () => {
        const counts = await queueCounts(producer.url);
        expect(
          counts.subscribers.map(({ completed, deadLettered }) => [completed, deadLettered]),
        ).toEqual(expected);
      }, 30_000);
    expect((await call(`${producer.url}/events`, { body: { id: 'x' } })).status).toBe(202);
    await done([
      [1, 0],
      [0, 1],
    ]);
    await call(`${downstream.url}/admin/faults`, { method: 'DELETE' });
    const again = await call(`${producer.url}/events`, { body: { id: 'x' } });
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ jobId: 'x' });
    await done([
      [1, 0],
      [1, 1],
    ]);
    // audit still held its completed job: it did not get the event twice.
    expect(
      await scrape(downstream.url, 'downstream_requests_total', { caller: 'worker/audit' }),
    ).toBe(1);
  });
});
