import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { checkedQueueLocation, queueEnv, queueLocationProblems } from '../shared/queue-env.ts';
import type { RedisTarget } from '../shared/redis-connection.ts';
import { subscriberEnv } from '../shared/topic.ts';

export const WorkerPolicy = Type.Object(
  {
    concurrency: Type.Integer({ minimum: 1, maximum: 10_000, default: 16 }),
    perAttemptTimeoutMs: Type.Integer({ minimum: 1, maximum: 600_000, default: 200 }),
    /** Take a Redis lock per idempotency key around each call: no two workers on one event at once. */
    lockPerKey: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type WorkerPolicy = Static<typeof WorkerPolicy>;

export const WorkerEnv = Type.Object({
  ...commonEnv(8083),
  ...queueEnv,
  /** The subscriber of the topic QUEUE_NAME this worker serves (its queue `<QUEUE_NAME>.<SUBSCRIBER>`); empty: the queue QUEUE_NAME. */
  SUBSCRIBER: subscriberEnv,
  DOWNSTREAM_URL: Type.String({ pattern: '^https?://[^/]+/?$', default: 'http://127.0.0.1:8081' }),
  DOWNSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, maximum: 10_000, default: 64 }),
  CONCURRENCY: WorkerPolicy.properties.concurrency,
  PER_ATTEMPT_TIMEOUT_MS: WorkerPolicy.properties.perAttemptTimeoutMs,
  LOCK_PER_KEY: WorkerPolicy.properties.lockPerKey,
  /** How long a job's lock lasts without renewal; a worker that dies loses its jobs after this. */
  LOCK_DURATION_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  STALLED_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  /** Stalls a job may survive before it fails finally (and goes to the DLQ). */
  MAX_STALLED_COUNT: Type.Integer({ minimum: 0, maximum: 100, default: 1 }),
  SWEEP_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 5000 }),
});
export type WorkerEnv = Static<typeof WorkerEnv>;

export interface WorkerConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  /** One Redis node (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
  redis: RedisTarget;
  /** The topic; the worker reads its subscriber's queue. */
  queueName: string;
  subscriber?: string | undefined;
  queuePrefix: string;
  downstreamUrl: string;
  downstreamConnections: number;
  policy: WorkerPolicy;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  sweepIntervalMs: number;
  seed?: number | undefined;
  adminToken?: string | undefined;
}

export function loadWorkerEnv(env: Record<string, string | undefined>) {
  return loadConfig(WorkerEnv, env, queueLocationProblems);
}

export function toWorkerConfig(env: WorkerEnv): WorkerConfig {
  const { redis, queuePrefix } = checkedQueueLocation(env);
  return {
    redis,
    queueName: env.QUEUE_NAME,
    subscriber: env.SUBSCRIBER === '' ? undefined : env.SUBSCRIBER,
    queuePrefix,
    downstreamUrl: env.DOWNSTREAM_URL,
    downstreamConnections: env.DOWNSTREAM_CONNECTIONS,
    policy: {
      concurrency: env.CONCURRENCY,
      perAttemptTimeoutMs: env.PER_ATTEMPT_TIMEOUT_MS,
      lockPerKey: env.LOCK_PER_KEY,
    },
    lockDurationMs: env.LOCK_DURATION_MS,
    stalledIntervalMs: env.STALLED_INTERVAL_MS,
    maxStalledCount: env.MAX_STALLED_COUNT,
    sweepIntervalMs: env.SWEEP_INTERVAL_MS,
    seed: env.SEED,
    adminToken: env.ADMIN_TOKEN,
    shedding: sheddingOf(env),
  };
}
