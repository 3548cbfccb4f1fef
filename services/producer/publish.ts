import { randomUUID } from 'node:crypto';
import type { FlowProducer, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import {
  eventJobName,
  eventJobOptions,
  type EventJobData,
  type ProducerPolicy,
} from '../shared/event-job.ts';
import type { RedisClient } from '../shared/redis-connection.ts';
import type { DepthEstimate } from './depth-estimate.ts';
import type { JobOwner } from './job-owner.ts';
import type { PublishOutcome } from './metrics.ts';
import { Unavailable, within } from './within.ts';

/** Fewer replicas than asked acknowledged the add in time: it may not survive a failover. */
class Unreplicated extends Error {}

/**
 * A JavaScript error (a stack overflow, a bad value) rather than one from Redis or our
 * timeout: ioredis and BullMQ fail with plain Errors and ReplyErrors, never with these.
 */
const isOwnFault = (error: unknown) =>
  error instanceof RangeError || error instanceof TypeError || error instanceof SyntaxError;

export interface Subscriber {
  name: string | undefined;
  queueName: string;
  queue: Queue<EventJobData>;
}

/** What publishing needs: the producer's Redis, its topic, and its settings. */
export interface Publisher {
  connection: RedisClient & { jobOwner(jobKey: string, publishToken: string): Promise<JobOwner> };
  flows: FlowProducer;
  subscribers: Subscriber[];
  depth: DepthEstimate;
  policy: () => ProducerPolicy;
  publishTimeoutMs: number;
  publishWaitReplicas: number;
  /** The depth the last admission saw (a gauge). */
  sawDepth(depth: number): void;
  /** An event answered 503 whose jobs are queued after all (their add landed late). */
  queuedLate(): void;
  log: FastifyBaseLogger;
}

export interface PublishAnswer {
  code: 200 | 202 | 429 | 500 | 503;
  body: { jobId: string; duplicate?: boolean } | { error: string; message: string };
  outcome: PublishOutcome;
}

/**
 * WAIT on the connection that wrote (it counts that client's writes), sent with a read of
 * the job's key so that on a cluster it goes to the master holding the queue's slot.
 */
async function waitForReplicas(p: Publisher, jobKey: string, replicas: number): Promise<void> {
  const results = await within(
    p.connection.pipeline().exists(jobKey).wait(replicas, p.publishTimeoutMs).exec(),
    p.publishTimeoutMs + 1000,
  );
  const [error, acknowledged] = results?.[1] ?? [new Error('no answer to WAIT')];
  if (error) throw error;
  if (typeof acknowledged !== 'number' || acknowledged < replicas)
    throw new Unreplicated(
      `the event is queued, but ${String(acknowledged)} of the ${replicas} replicas asked for (PUBLISH_WAIT_REPLICAS) acknowledged it within ${p.publishTimeoutMs} ms, so a failover could lose it; publishing it again with the same id is safe`,
    );
}

/**
 * Publishes one event to every subscriber's queue, all of them or none (one MULTI/EXEC),
 * within the bound on the queue's depth, and says what happened. A 503 never claims that
 * nothing was queued when it cannot know: an add that timed out may still land, and if it
 * does the producer counts it (`queuedLate`) so that an experiment's accounting stays exact.
 */
export async function publishEvent(
  p: Publisher,
  event: { id: string; payload?: unknown },
): Promise<PublishAnswer> {
  const policy = p.policy();
  let cancelReservation: (() => void) | undefined;
  let adding: Promise<unknown> | undefined;
  let added = false;
  try {
    // Checks the bound and takes a place in one step, so concurrent requests see it.
    const admission = await within(p.depth.admit(policy.maxDepth), p.publishTimeoutMs);
    p.sawDepth(admission.depth);
    cancelReservation = admission.cancel;
    if (!cancelReservation)
      return {
        code: 429,
        outcome: 'dropped',
        body: {
          error: 'queue_full',
          message: `queue holds ${admission.depth} jobs (waiting + delayed + active), the bound is ${policy.maxDepth}`,
        },
      };
    const { id, payload } = event;
    const data: EventJobData = {
      id,
      ...(payload !== undefined ? { payload } : {}),
      publishedAt: Date.now(),
      publishToken: randomUUID(),
      backoff: policy.backoff,
    };
    const jobs = p.subscribers.map(({ name, queue, queueName }) => ({
      queue,
      name: eventJobName,
      queueName,
      data,
      opts: eventJobOptions(id, {
        attempts:
          1 +
          ((name === undefined ? undefined : policy.subscriberRetries[name]) ?? policy.maxRetries),
        keepCompleted: policy.keepCompleted,
      }),
    }));
    // One queue: one add (one script). Several: one MULTI/EXEC, all or none. A MULTI costs
    // the producer an ioredis Pipeline, which copies every one of BullMQ's scripts onto
    // itself: the largest frame of the producer's profile under load (docs/performance.md).
    const [only] = jobs;
    adding =
      jobs.length === 1 && only
        ? only.queue.add(only.name, only.data, only.opts)
        : p.flows.addBulk(jobs.map(({ queue: _queue, ...job }) => job));
    await within(adding, p.publishTimeoutMs);
    added = true;
    // BullMQ answers an existing id as if it had added it: ask Redis whose jobs they are.
    // A duplicate only if every subscriber held the id already: one that had dead-lettered
    // it got it anew (and is answered 202), the others kept theirs.
    const owners = await within(
      Promise.all(
        p.subscribers.map(({ queue }) => p.connection.jobOwner(queue.toKey(id), data.publishToken)),
      ),
      p.publishTimeoutMs,
    );
    if (owners.every((owner) => owner === 'other')) {
      cancelReservation();
      return { code: 200, outcome: 'duplicate', body: { jobId: id, duplicate: true } };
    }
    if (p.publishWaitReplicas > 0)
      await waitForReplicas(p, p.subscribers[0]!.queue.toKey(id), p.publishWaitReplicas);
    return { code: 202, outcome: 'accepted', body: { jobId: id } };
  } catch (error) {
    if (error instanceof Unreplicated)
      // Queued on the master (its place stays taken); a retry with the same id is safe.
      return {
        code: 503,
        outcome: 'unreplicated',
        body: { error: 'not_replicated', message: error.message },
      };
    if (isOwnFault(error)) {
      cancelReservation?.();
      // Not Redis: an outage would be the wrong story, and the wrong alert.
      p.log.error({ err: error }, 'publish failed inside the producer');
      return {
        code: 500,
        outcome: 'error',
        body: {
          error: 'internal_error',
          message: 'the producer failed before queuing the event; nothing was queued',
        },
      };
    }
    p.log.debug({ err: error }, 'publish failed');
    const reason = (error as Error).message;
    if (added) {
      // The add landed; a later step did not answer. Its place stays taken.
      p.queuedLate();
      return unavailable(
        `${reason} after the event was queued; publishing it again with the same id is safe`,
      );
    }
    cancelReservation?.();
    if (adding !== undefined && error instanceof Unavailable) {
      // Sent, not answered: it may still land. If it does, it is counted.
      void adding.then(
        () => p.queuedLate(),
        () => {},
      );
      return unavailable(
        `${reason}: the event may still be queued; publishing it again with the same id is safe`,
      );
    }
    return unavailable(`the queue is unavailable, nothing was queued: ${reason}`);
  }
}

const unavailable = (message: string): PublishAnswer => ({
  code: 503,
  outcome: 'unavailable',
  body: { error: 'queue_unavailable', message },
});
