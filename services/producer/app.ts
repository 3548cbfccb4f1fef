import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import type { FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import {
  eventJobOptions,
  deadLetterQueueName,
  type EventJobData,
  eventJobName,
  ProducerPolicy,
} from '../shared/event-job.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, ErrorBody, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { connectionReady, producerConnection, redisLabel } from '../shared/redis-connection.ts';
import { withJobOwner } from './job-owner.ts';
import { strictPartial, withoutDefaults } from '../shared/schemas.ts';
import { subscriberQueue } from '../shared/topic.ts';
import type { ProducerConfig } from './config.ts';
import { DepthEstimate } from './depth-estimate.ts';
import { createProducerMetrics, type PublishOutcome } from './metrics.ts';

export interface ProducerDeps {
  logger?: FastifyServerOptions['logger'];
  clock?: Clock;
}

const EventRequest = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128 }), payload: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
const Accepted = Type.Object({ jobId: Type.String(), duplicate: Type.Optional(Type.Boolean()) });
const counts = {
  waiting: Type.Integer(),
  active: Type.Integer(),
  delayed: Type.Integer(),
  completed: Type.Integer(),
  failed: Type.Integer(),
  deadLettered: Type.Integer(),
};
/** The topic's totals, and each subscriber's own (a plain queue is one unnamed subscriber). */
const QueueCounts = Type.Object({
  ...counts,
  subscribers: Type.Array(
    Type.Object({
      name: Type.Union([Type.String(), Type.Null()]),
      queue: Type.String(),
      ...counts,
    }),
  ),
});
const PolicyUpdate = withoutDefaults(
  Type.Object(
    {
      maxRetries: Type.Optional(ProducerPolicy.properties.maxRetries),
      backoff: Type.Optional(strictPartial(ProducerPolicy.properties.backoff)),
      maxDepth: Type.Optional(ProducerPolicy.properties.maxDepth),
      keepCompleted: Type.Optional(ProducerPolicy.properties.keepCompleted),
      subscriberRetries: Type.Optional(ProducerPolicy.properties.subscriberRetries),
    },
    { additionalProperties: false },
  ),
);

class Unavailable extends Error {}

/** Fewer replicas than asked acknowledged the add in time: it may not survive a failover. */
class Unreplicated extends Error {}

/**
 * A JavaScript error (a stack overflow, a bad value) rather than one from Redis or our
 * timeout: ioredis and BullMQ fail with plain Errors and ReplyErrors, never with these.
 */
const isOwnFault = (error: unknown) =>
  error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Unavailable(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The producer: `POST /events` publishes an event to its topic, one BullMQ job in each
 * subscriber's queue, all of them or none, or says why not. A topic without named
 * subscribers has one: the queue `queueName` itself.
 */
export function buildProducer(config: ProducerConfig, deps: ProducerDeps = {}): App {
  const registry = createMetricsRegistry('producer');
  const connection = withJobOwner(producerConnection(config.redis));
  const prefix = config.queuePrefix;
  const named = config.subscribers.length > 0 ? config.subscribers : [undefined];
  const subscribers = named.map((name) => {
    const queueName = subscriberQueue(config.queueName, name);
    return {
      name,
      queueName,
      queue: new Queue<EventJobData>(queueName, { connection, prefix }),
      deadLetters: new Queue(deadLetterQueueName(queueName), { connection, prefix }),
    };
  });
  // Every subscriber's job in one MULTI/EXEC (FlowProducer.addBulk): Redis runs it whole
  // or not at all, and with AOF a crash cannot keep half of it.
  const flows = new FlowProducer({ connection, prefix });
  let policy = config.policy;
  // Backpressure by the fullest subscriber: one slow consumer holds the topic back.
  const depth = new DepthEstimate(
    async () => {
      const depths = await Promise.all(
        subscribers.map(async ({ queue }) => {
          const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
          return Object.values(counts).reduce((sum, count) => sum + count, 0);
        }),
      );
      return Math.max(...depths);
    },
    config.depthCacheMs,
    deps.clock ?? monotonicClock,
  );
  /**
   * WAIT on the connection that wrote (it counts that client's writes), sent with a read
   * of the job's key so that on a cluster it goes to the master holding the queue's slot.
   */
  const waitForReplicas = async (jobKey: string, replicas: number) => {
    const results = await withTimeout(
      connection.pipeline().exists(jobKey).wait(replicas, config.publishTimeoutMs).exec(),
      config.publishTimeoutMs + 1000,
    );
    const [error, acknowledged] = results?.[1] ?? [new Error('no answer to WAIT')];
    if (error) throw error;
    if (typeof acknowledged !== 'number' || acknowledged < replicas)
      throw new Unreplicated(
        `the event is queued, but ${String(acknowledged)} of the ${replicas} replicas asked for (PUBLISH_WAIT_REPLICAS) acknowledged it within ${config.publishTimeoutMs} ms, so a failover could lose it; publishing it again with the same id is safe`,
      );
  };
  let lastDepth = 0;
  const metrics = createProducerMetrics(
    registry,
    () => lastDepth,
    () => policy.maxDepth,
  );
  const app = createServiceApp({
    service: 'producer',
    registry,
    logger: deps.logger,
    shedding: config.shedding,
  });
  let lastRedisError = '';
  const onRedisError = (error: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each new one once.
    if (error.message !== lastRedisError) app.log.warn({ err: error }, 'redis error');
    lastRedisError = error.message;
  };
  connection.on('error', onRedisError);
  connection.on('ready', () => (lastRedisError = ''));
  flows.on('error', onRedisError);
  for (const { queue, deadLetters } of subscribers) {
    queue.on('error', onRedisError);
    deadLetters.on('error', onRedisError);
  }

  app.post(
    '/events',
    {
      // The payload is the user's: any JSON, 64 KiB and 32 levels at most.
      ...bodyLimits(65_536, 32),
      schema: {
        body: EventRequest,
        response: { 200: Accepted, 202: Accepted, '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      let outcome: PublishOutcome = 'unavailable';
      let cancelReservation: (() => void) | undefined;
      try {
        // Checks the bound and takes a place in one step, so concurrent requests see it.
        const admission = await withTimeout(depth.admit(policy.maxDepth), config.publishTimeoutMs);
        const current = admission.depth;
        lastDepth = current;
        cancelReservation = admission.cancel;
        if (!cancelReservation) {
          outcome = 'dropped';
          return reply.code(429).send({
            error: 'queue_full',
            message: `queue holds ${current} jobs (waiting + delayed + active), the bound is ${policy.maxDepth}`,
          });
        }
        const { id, payload } = request.body;
        const data: EventJobData = {
          id,
          ...(payload !== undefined ? { payload } : {}),
          publishedAt: Date.now(),
          publishToken: randomUUID(),
          backoff: policy.backoff,
        };
        await withTimeout(
          flows.addBulk(
            subscribers.map(({ name, queueName }) => ({
              name: eventJobName,
              queueName,
              data,
              opts: eventJobOptions(id, {
                attempts:
                  1 +
                  ((name === undefined ? undefined : policy.subscriberRetries[name]) ??
                    policy.maxRetries),
                keepCompleted: policy.keepCompleted,
              }),
            })),
          ),
          config.publishTimeoutMs,
        );
        // BullMQ answers an existing id as if it had added it: ask Redis whose jobs they
        // are. A duplicate only if every subscriber held the id already: one that had
        // dead-lettered it got it anew (and is answered 202), the others kept theirs.
        const owners = await withTimeout(
          Promise.all(
            subscribers.map(({ queue }) => connection.jobOwner(queue.toKey(id), data.publishToken)),
          ),
          config.publishTimeoutMs,
        );
        if (owners.every((owner) => owner === 'other')) {
          cancelReservation();
          outcome = 'duplicate';
          return reply.code(200).send({ jobId: id, duplicate: true });
        }
        if (config.publishWaitReplicas > 0)
          await waitForReplicas(subscribers[0]!.queue.toKey(id), config.publishWaitReplicas);
        outcome = 'accepted';
        return reply.code(202).send({ jobId: id });
      } catch (error) {
        if (error instanceof Unreplicated) {
          // Queued on the master (its place stays taken); a retry with the same id is safe.
          outcome = 'unreplicated';
          return reply.code(503).send({ error: 'not_replicated', message: error.message });
        }
        // Nothing was queued (or we cannot tell): give the place back.
        cancelReservation?.();
        if (isOwnFault(error)) {
          // Not Redis: an outage would be the wrong story, and the wrong alert.
          request.log.error({ err: error }, 'publish failed inside the producer');
          outcome = 'error';
          return reply.code(500).send({
            error: 'internal_error',
            message: 'the producer failed before queuing the event; nothing was queued',
          });
        }
        request.log.debug({ err: error }, 'publish failed');
        outcome = 'unavailable';
        return reply.code(503).send({
          error: 'queue_unavailable',
          message: `the queue is unavailable, nothing was queued: ${(error as Error).message}`,
        });
      } finally {
        metrics.publish(outcome, (performance.now() - startedAt) / 1000);
      }
    },
  );

  registerAdmin(app, config.adminToken, (admin) => {
    admin.get(
      '/queue',
      { schema: { response: { 200: QueueCounts, 503: ErrorBody } } },
      async (_request, reply) => {
        try {
          const each = await withTimeout(
            Promise.all(
              subscribers.map(async ({ name, queueName, queue, deadLetters }) => {
                const [main, dlq] = await Promise.all([
                  queue.getJobCounts(
                    'waiting',
                    'active',
                    'delayed',
                    'completed',
                    'failed',
                    'prioritized',
                  ),
                  deadLetters.getJobCounts('waiting'),
                ]);
                return {
                  name: name ?? null,
                  queue: queueName,
                  waiting: (main.waiting ?? 0) + (main.prioritized ?? 0),
                  active: main.active ?? 0,
                  delayed: main.delayed ?? 0,
                  completed: main.completed ?? 0,
                  failed: main.failed ?? 0,
                  deadLettered: dlq.waiting ?? 0,
                };
              }),
            ),
            config.publishTimeoutMs,
          );
          const total = (field: keyof typeof counts) =>
            each.reduce((sum, subscriber) => sum + subscriber[field], 0);
          return {
            waiting: total('waiting'),
            active: total('active'),
            delayed: total('delayed'),
            completed: total('completed'),
            failed: total('failed'),
            deadLettered: total('deadLettered'),
            subscribers: each,
          };
        } catch (error) {
          return reply
            .code(503)
            .send({ error: 'queue_unavailable', message: (error as Error).message });
        }
      },
    );
    // A running stack's experiment runner starts each run from here: completed jobs are
    // capped at keepCompleted, so counting completions as a difference needs room below the cap.
    admin.delete(
      '/queue/completed',
      { schema: { response: { 200: Type.Object({ removed: Type.Integer() }), 503: ErrorBody } } },
      async (_request, reply) => {
        try {
          const removed = await withTimeout(
            Promise.all(subscribers.map(({ queue }) => queue.clean(0, 0, 'completed'))),
            30_000,
          );
          return { removed: removed.reduce((sum, ids) => sum + ids.length, 0) };
        } catch (error) {
          return reply
            .code(503)
            .send({ error: 'queue_unavailable', message: (error as Error).message });
        }
      },
    );
    admin.get('/policy', { schema: { response: { 200: ProducerPolicy } } }, async () => policy);
    admin.put(
      '/policy',
      {
        ...bodyLimits(16_384, 3),
        schema: { body: PolicyUpdate, response: { 200: ProducerPolicy } },
      },
      async (request) => {
        const { backoff, subscriberRetries, ...rest } = request.body;
        policy = {
          ...policy,
          ...rest,
          backoff: { ...policy.backoff, ...backoff },
          subscriberRetries: { ...policy.subscriberRetries, ...subscriberRetries },
        };
        request.log.info({ policy }, 'producer policy changed');
        return policy;
      },
    );
  });

  app.addHook('onReady', async () => {
    // Give Redis a moment so the first requests don't 503 just because we started first.
    await connectionReady(connection, config.publishTimeoutMs, redisLabel(config.redis)).catch(
      (error: Error) =>
        app.log.warn(
          { err: error },
          'starting without Redis; POST /events answers 503 until it is back',
        ),
    );
  });

  app.addHook('onClose', async () => {
    await flows.close();
    for (const { queue, deadLetters } of subscribers) {
      await deadLetters.close();
      await queue.close();
    }
    connection.disconnect();
  });
  return app;
}
