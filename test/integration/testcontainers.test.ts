import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisImage } from '../../load/stack/redis-provider.ts';
import { requireEngine } from '../support/containers.ts';
import { eventually } from '../support/http.ts';
import { startOwnRedis } from '../support/own-redis.ts';
import { testRedis, uniqueQueueName } from '../support/redis.ts';

/**
 * The card's "integration tests via testcontainers": where an engine answers (CI makes one
 * with scripts/container-engine.sh), the suites' Redis is a container the product's
 * provider starts, and the crash tests kill and restart containers. Without an engine
 * these fail, naming the command that installs one.
 */
describe('testcontainers', () => {
  it('gives the suites a Redis container from the provider, which BullMQ uses and which stops without a trace', async () => {
    await requireEngine();
    const redis = await testRedis();
    expect(redis.source, 'REDIS_URL is set: unset it to test the container path').toBe('container');
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const name = uniqueQueueName('tc');
    const queue = new Queue(name, { connection });
    const worker = new Worker<{ n: number }>(name, async (job) => `done ${job.data.n}`, {
      connection,
    });
    try {
      const job = await queue.add('t', { n: 7 });
      await eventually(async () => expect(await queue.getJobState(job.id!)).toBe('completed'));
      expect((await queue.getJob(job.id!))?.returnvalue).toBe('done 7');
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
    }
    const client = new Redis(redis.url);
    const info = await client.info('server');
    client.disconnect();
    // The image compose names, as built here or pulled: a Redis of 7 or later.
    expect(Number(/redis_version:(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(7);
    const port = new URL(redis.url).port;
    await redis.stop();
    const { getContainerRuntimeClient } = await import('testcontainers');
    const running = await (await getContainerRuntimeClient()).container.list();
    expect(
      running.filter(
        (c) => c.Image.endsWith(redisImage) && c.Ports.some((p) => String(p.PublicPort) === port),
      ),
    ).toEqual([]);
  });

  it('kills a Redis container with SIGKILL and starts it again on the same address with its AOF', async () => {
    await requireEngine();
    const own = await startOwnRedis({ appendOnly: true, appendFsync: 'always' });
    try {
      expect(own.kind).toBe('container');
      const before = new Redis(own.url);
      await before.set('survives', 'yes');
      before.disconnect();
      await own.kill();
      const down = new Redis(own.url, {
        lazyConnect: true,
        connectTimeout: 2000,
        maxRetriesPerRequest: 0,
      });
      down.on('error', () => {});
      await expect(down.connect()).rejects.toThrow();
      down.disconnect();
      await own.restart();
      const after = new Redis(own.url);
      expect(await after.get('survives')).toBe('yes');
      after.disconnect();
    } finally {
      await own.stop();
    }
  });
});
