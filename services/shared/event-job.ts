import type { JobsOptions } from 'bullmq';
import { type Static, Type } from 'typebox';
import { BackoffPolicy, backoffDelayMs } from './backoff.ts';
import type { Rng } from './rng.ts';
import { SubscriberName } from './topic.ts';
import { defaultsOf } from './schemas.ts';

/** What the producer stores in each job; the worker and the DLQ tools read it. */
export interface EventJobData {
  id: string;
  payload?: unknown;
  /** Epoch ms when the producer accepted it (reset by a redrive); end-to-end latency starts here. */
  publishedAt: number;
  /** Random per publish, so the producer can tell its own add from an existing job with the same id. */
  publishToken: string;
  backoff: BackoffPolicy;
  /** The last backoff delay, kept for decorrelated jitter. */
  lastBackoffMs?: number;
}

/** The job name every event job carries. */
export const eventJobName = 'event';

/** The BullMQ backoff type registered by the worker (BullMQ's own exponential has no cap). */
export const backoffType = 'cascade';

export const deadLetterQueueName = (queueName: string) => `${queueName}-dlq`;

/** Producer-side policy for the jobs it adds. */
export const ProducerPolicy = Type.Object(
  {
    maxRetries: Type.Integer({ minimum: 0, maximum: 1000, default: 3 }),
    backoff: BackoffPolicy,
    /** waiting + delayed + active at which new events are refused with 429. */
    maxDepth: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 5000 }),
    /** Completed jobs kept in Redis (for dedup by id and inspection); older ones are removed. */
    keepCompleted: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 100_000 }),
    /** A subscriber's own retries, instead of `maxRetries` (its jobs carry their attempts). */
    subscriberRetries: Type.Record(SubscriberName, Type.Integer({ minimum: 0, maximum: 50 }), {
      default: {},
    }),
  },
  { additionalProperties: false },
);
export type ProducerPolicy = Static<typeof ProducerPolicy>;

export const defaultProducerPolicy: ProducerPolicy = defaultsOf(ProducerPolicy);

/**
 * The options every event job is added with, by the producer and by a redrive from the
 * DLQ: `attempts` = 1 + retries, our capped backoff, the last `keepCompleted` completed
 * jobs kept (the dedup window), and finally-failed jobs kept until the worker has copied
 * them to the dead-letter queue.
 */
export function eventJobOptions(
  jobId: string,
  { attempts, keepCompleted }: { attempts: number; keepCompleted: number },
): JobsOptions {
  return {
    jobId,
    attempts,
    backoff: { type: backoffType },
    removeOnComplete: { count: keepCompleted },
    removeOnFail: false,
  };
}

interface BackoffJob {
  data: EventJobData;
  updateData?: (data: EventJobData) => Promise<void>;
}

/**
 * BullMQ backoff strategy shared with the gateway's backoff module: the policy
 * travels in the job's data, so the producer decides and the worker obeys.
 * `attemptsMade` counts the attempt that just failed, so it is the retry number.
 */
export function createBackoffStrategy(rng: Rng) {
  return async (
    attemptsMade: number,
    type?: string,
    _err?: Error,
    job?: BackoffJob,
  ): Promise<number> => {
    if (type !== backoffType || job === undefined) return 0;
    const delay = backoffDelayMs(attemptsMade, job.data.backoff, rng, job.data.lastBackoffMs);
    if (job.data.backoff.jitter === 'decorrelated' && job.updateData) {
      await job.updateData({ ...job.data, lastBackoffMs: delay });
    }
    return Math.round(delay);
  };
}
