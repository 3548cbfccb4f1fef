import { FlowProducer, Queue } from 'bullmq';
import type { FastifyServerOptions } from 'fastify';
import { Type } from 'typebox';
import { type Clock, monotonicClock } from '../shared/clock.ts';
import { deadLetterQueueName, type EventJobData, ProducerPolicy } from '../shared/event-job.ts';
import { bodyLimits } from '../shared/json-body.ts';
import { type App, createServiceApp, ErrorBody, registerAdmin } from '../shared/http-app.ts';
import { createMetricsRegistry } from '../shared/metrics.ts';
import { connectionReady, producerConnection, redisLabel } from '../shared/redis-connection.ts';
import { withJobOwner } from './job-owner.ts';
import { strictPartial, withoutDefaults } from '../shared/schemas.ts';
import { subscriberQueue } from '../shared/topic.ts';
import type { ProducerConfig } from './config.ts';
import { DepthEstimate } from './depth-estimate.ts';
import { createProducerMetrics } from './metrics.ts';
import { type Publisher, publishEvent } from './publish.ts';
import { within } from './within.ts';

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
  const publisher: Publisher = {
    connection,
    flows,
    subscribers,
    depth,
    policy: () => policy,
    publishTimeoutMs: config.publishTimeoutMs,
    publishWaitReplicas: config.publishWaitReplicas,
    sawDepth: (seen) => (lastDepth = seen),
    queuedLate: () => metrics.queuedLate(),
    log: app.log,
  };

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
      const answer = await publishEvent(publisher, request.body);
      metrics.publish(answer.outcome, (performance.now() - startedAt) / 1000);
      return reply.code(answer.code).send(answer.body);
    },
  );

  registerAdmin(app, config.adminToken, (admin) => {
    admin.get(
      '/queue',
      { schema: { response: { 200: QueueCounts, 503: ErrorBody } } },
      async (_request, reply) => {
        try {
          const each = await within(
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
          const removed = await within(
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
