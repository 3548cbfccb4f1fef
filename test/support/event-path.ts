import { Queue, Worker } from 'bullmq';
import { buildProducer } from '../../services/producer/app.ts';
import type { DeadLetterData } from '../../services/worker/dead-letter.ts';
import {
  type EventJobData,
  defaultProducerPolicy,
  deadLetterQueueName,
  type ProducerPolicy,
} from '../../services/shared/event-job.ts';
import {
  producerConnection,
  type RedisTarget,
  workerConnection,
} from '../../services/shared/redis-connection.ts';
import type { WorkerConfig } from '../../services/worker/config.ts';
import { buildWorker } from '../../services/worker/worker.ts';
import { waitForDrain } from '../../load/stack/queue-counts.ts';
import { call } from './http.ts';
import type { Running } from './rpc-path.ts';

export const testPrefix = 'cascade-test';

export async function startProducer(
  redis: RedisTarget,
  queueName: string,
  policy: Partial<ProducerPolicy> = {},
  options: {
    depthCacheMs?: number;
    publishTimeoutMs?: number;
    publishWaitReplicas?: number;
    adminToken?: string;
    subscribers?: string[];
    /** @defaultValue testPrefix */
    queuePrefix?: string;
  } = {},
): Promise<Running> {
  const app = buildProducer({
    redis,
    queueName,
    queuePrefix: options.queuePrefix ?? testPrefix,
    subscribers: options.subscribers ?? [],
    policy: {
      ...defaultProducerPolicy,
      backoff: { ...defaultProducerPolicy.backoff, baseMs: 5, capMs: 40 },
      ...policy,
    },
    depthCacheMs: options.depthCacheMs ?? 50,
    publishTimeoutMs: options.publishTimeoutMs ?? 1000,
    publishWaitReplicas: options.publishWaitReplicas ?? 0,
    adminToken: options.adminToken,
  });
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

export async function startWorker(
  redis: RedisTarget,
  queueName: string,
  downstreamUrl: string,
  overrides: Partial<WorkerConfig> = {},
): Promise<Running> {
  const app = buildWorker({
    redis,
    queueName,
    queuePrefix: testPrefix,
    downstreamUrl,
    downstreamConnections: 32,
    policy: { concurrency: 16, perAttemptTimeoutMs: 500, lockPerKey: false },
    lockDurationMs: 5000,
    stalledIntervalMs: 2000,
    maxStalledCount: 1,
    sweepIntervalMs: 1000,
    seed: 1,
    ...overrides,
  });
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/** Reads the queues straight from Redis, as a test's independent witness. */
export function inspectQueues(redis: RedisTarget, queueName: string, prefix = testPrefix) {
  const connection = producerConnection(redis);
  connection.on('error', () => {});
  const main = new Queue<EventJobData>(queueName, { connection, prefix });
  const dlq = new Queue<DeadLetterData>(deadLetterQueueName(queueName), { connection, prefix });
  main.on('error', () => {});
  dlq.on('error', () => {});
  const ids = async (
    queue: Queue<EventJobData> | Queue<DeadLetterData>,
    state: 'completed' | 'waiting' | 'failed',
  ) => (await queue.getJobs([state], 0, -1)).map((job) => String(job.id));
  return {
    main,
    dlq,
    completedIds: () => ids(main, 'completed'),
    deadLetteredIds: () => ids(dlq, 'waiting'),
    failedIds: () => ids(main, 'failed'),
    async close() {
      // A queue still connecting when its connection goes rejects inside BullMQ, unhandled
      // ("Stream isn't writeable"): a test that ends at once closes it first.
      await Promise.allSettled([main.waitUntilReady(), dlq.waitUntilReady()]);
      await dlq.close();
      await main.close();
      connection.disconnect();
    },
  };
}

/**
 * Leaves `ids` in the failed set of `queueName`, as a worker that crashed between failing
 * them for good and dead-lettering them would: they are added with one attempt and a bare
 * BullMQ worker fails each with `reason`. Answers how to close what it opened, once the
 * caller has seen them fail.
 */
export async function failWithoutDeadLettering(
  redis: RedisTarget,
  queueName: string,
  prefix: string,
  ids: string[],
  reason: string,
): Promise<{ close(): Promise<void> }> {
  const connection = producerConnection(redis);
  const queue = new Queue(queueName, { connection, prefix });
  for (const id of ids)
    await queue.add(
      'event',
      {
        id,
        publishedAt: Date.now(),
        publishToken: id,
        backoff: { kind: 'none', baseMs: 0, capMs: 0, jitter: 'none' },
      },
      { jobId: id, attempts: 1, removeOnFail: false },
    );
  const bare = new Worker(queueName, async () => Promise.reject(new Error(reason)), {
    connection: workerConnection(redis),
    prefix,
    // Its stalled check would hold the queue's for 30 s: other workers' stalled jobs wait on it.
    skipStalledCheck: true,
  });
  return {
    async close() {
      await bare.close();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Posts events one by one (bounded concurrency), answering the ids that got a 202. */
export async function publish(
  producerUrl: string,
  ids: string[],
  concurrency = 16,
): Promise<{ accepted: string[]; statuses: number[] }> {
  const accepted: string[] = [];
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const response = await call(`${producerUrl}/events`, { body: { id } });
        statuses.push(response.status);
        if (response.status === 202) accepted.push(id);
      }
    }),
  );
  return { accepted, statuses };
}

/** Waits until nothing is waiting, active or delayed and `expected` jobs have finished one way or the other. */
export async function waitUntilSettled(
  producerUrl: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<void> {
  await waitForDrain(producerUrl, {
    timeoutMs,
    until: (counts) => counts.completed + counts.deadLettered >= expected,
    pollMs: 50,
  });
}
