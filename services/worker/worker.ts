import { type Job, Queue, Worker } from 'bullmq';
import type { FastifyServerOptions } from 'fastify';
import { Pool } from 'undici';
import { PoolOccupancy } from '../shared/downstream-work.ts';
import {
  createBackoffStrategy,
  deadLetterQueueName,
  type EventJobData,
} from '../shared/event-job.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { subscriberIdentity, subscriberQueue } from '../shared/topic.ts';
import { workerConnection } from '../shared/redis-connection.ts';
import { forkRng } from '../shared/rng.ts';
import { strictPartial } from '../shared/schemas.ts';
import { type WorkerConfig, WorkerPolicy } from './config.ts';
import { type DeadLetterData, DeadLetterQueue } from './dead-letter.ts';
import { createWorkerMetrics, type QueueSnapshot, queueStates } from './metrics.ts';
import { KeyLocks } from './key-lock.ts';
import { createProcessor } from './processor.ts';

export interface WorkerDeps {
  logger?: FastifyServerOptions['logger'];
}

/**
 * The worker: a BullMQ Worker calling downstream per job, a dead-letter queue
 * with a sweeper, and a small HTTP server (`/healthz`, `/metrics`, `/admin/policy`).
 * Processing starts when the app is ready (`listen` or `ready`) and drains on close:
 * no new jobs, active jobs finish, then connections close.
 */
export function buildWorker(config: WorkerConfig, deps: WorkerDeps = {}): App {
  const registry = createMetricsRegistry('worker');
  const queueName = subscriberQueue(config.queueName, config.subscriber);
  // Subscribers' workers side by side on a dashboard: every series says whose it is.
  if (config.subscriber)
    registry.setDefaultLabels({ service: 'worker', subscriber: config.subscriber });
  const connection = workerConnection(config.redis);
  const prefix = config.queuePrefix;
  const main = new Queue<EventJobData>(queueName, { connection, prefix });
  const dlq = new Queue<DeadLetterData>(deadLetterQueueName(queueName), {
    connection,
    prefix,
  });
  const deadLetters = new DeadLetterQueue(main, dlq);
  const pool = new Pool(config.downstreamUrl, { connections: config.downstreamConnections });
  let policy = config.policy;

  const snapshot = async (): Promise<QueueSnapshot | undefined> => {
    try {
      const [counts, deadLettered, oldest] = await Promise.all([
        main.getJobCounts(...queueStates, 'prioritized'),
        dlq.getWaitingCount(),
        main.getJobs(['wait'], 0, 0, true),
      ]);
      const timestamp = oldest[0]?.timestamp;
      return {
        main: {
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          completed: counts.completed ?? 0,
          failed: counts.failed ?? 0,
        },
        deadLettered,
        oldestWaitingAgeSeconds:
          timestamp === undefined ? 0 : Math.max(0, Date.now() - timestamp) / 1000,
      };
    } catch {
      return undefined;
    }
  };
  const metrics = createWorkerMetrics(registry, snapshot);
  const app = createServiceApp({
    service: 'worker',
    registry,
    logger: deps.logger,
    shedding: config.shedding,
  });

  const workerClient = connection.duplicate();
  const worker = new Worker<EventJobData>(
    queueName,
    createProcessor(pool, () => policy, metrics.events, {
      ...subscriberIdentity(config.queueName, config.subscriber),
      locks: new KeyLocks(connection, prefix),
      occupancy: new PoolOccupancy(config.downstreamConnections),
    }),
    {
      connection: workerClient,
      prefix,
      autorun: false,
      concurrency: policy.concurrency,
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: config.maxStalledCount,
      settings: { backoffStrategy: createBackoffStrategy(forkRng(config.seed, 'worker-backoff')) },
    },
  );

  const deadLetter = async (job: Job<EventJobData>) => {
    try {
      if ((await deadLetters.moveIfFinallyFailed(String(job.id))) === 'failed')
        metrics.deadLettered();
    } catch (error) {
      // It stays in the failed set, where the sweeper will find it.
      app.log.warn({ err: error, jobId: job.id }, 'dead-lettering deferred to the sweeper');
    }
  };
  worker.on('failed', (job) => {
    metrics.failedAttempt();
    if (job === undefined) return;
    // BullMQ sets finishedOn only when the failure is final (no attempts left, or unrecoverable).
    if (job.finishedOn === undefined) metrics.retry();
    else void deadLetter(job);
  });
  worker.on('stalled', () => metrics.stalled());
  let lastError = '';
  const onError = (error: Error) => {
    if (error.message !== lastError) app.log.warn({ err: error }, 'worker error');
    lastError = error.message;
  };
  worker.on('error', onError);
  main.on('error', onError);
  dlq.on('error', onError);
  connection.on('error', onError);
  workerClient.on('error', onError);

  const sweep = async () => {
    try {
      const moved = await deadLetters.sweep();
      if (moved > 0) {
        metrics.deadLettered(moved);
        app.log.info({ moved }, 'sweeper moved finally-failed jobs to the dead-letter queue');
      }
    } catch (error) {
      app.log.warn({ err: error }, 'sweep failed; will try again');
    }
  };
  let sweeper: NodeJS.Timeout | undefined;

  app.addHook('onReady', async () => {
    await sweep();
    sweeper = setInterval(() => void sweep(), config.sweepIntervalMs);
    sweeper.unref();
    void worker.run().catch((error: unknown) => app.log.error({ err: error }, 'worker stopped'));
  });
  app.addHook('preClose', async () => {
    clearInterval(sweeper);
    await worker.close();
  });
  app.addHook('onClose', async () => {
    await dlq.close();
    await main.close();
    await pool.close();
    workerClient.disconnect();
    connection.disconnect();
  });

  registerAdmin(app, config.adminToken, (admin) => {
    admin.get('/policy', { schema: { response: { 200: WorkerPolicy } } }, async () => policy);
    admin.put(
      '/policy',
      {
        ...bodyLimits(16_384, 2),
        schema: { body: strictPartial(WorkerPolicy), response: { 200: WorkerPolicy } },
      },
      async (request) => {
        policy = { ...policy, ...request.body };
        worker.concurrency = policy.concurrency;
        request.log.info({ policy }, 'worker policy changed');
        return policy;
      },
    );
  });
  return app;
}
