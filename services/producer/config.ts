import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig } from '../shared/config.ts';
import { defaultProducerPolicy, type ProducerPolicy } from '../shared/event-job.ts';

/** Env shared by the producer and the worker: where the queue lives. */
export const queueEnv = {
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:6379' }),
  QUEUE_NAME: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$', default: 'events' }),
  /** BullMQ key prefix; use a hash tag such as `{cascade}` for Redis Cluster. */
  QUEUE_PREFIX: Type.String({ minLength: 1, maxLength: 100, default: 'cascade' }),
};

export const ProducerEnv = Type.Object({
  ...commonEnv(8082),
  ...queueEnv,
  MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 50, default: defaultProducerPolicy.maxRetries }),
  MAX_DEPTH: Type.Integer({
    minimum: 1,
    maximum: 10_000_000,
    default: defaultProducerPolicy.maxDepth,
  }),
  DEPTH_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 100 }),
  PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
});
export type ProducerEnv = Static<typeof ProducerEnv>;

export interface ProducerConfig {
  redisUrl: string;
  queueName: string;
  queuePrefix: string;
  policy: ProducerPolicy;
  depthCacheMs: number;
  publishTimeoutMs: number;
  adminToken?: string | undefined;
}

export function loadProducerEnv(env: Record<string, string | undefined>) {
  return loadConfig(ProducerEnv, env);
}

export function toProducerConfig(env: ProducerEnv): ProducerConfig {
  return {
    redisUrl: env.REDIS_URL,
    queueName: env.QUEUE_NAME,
    queuePrefix: env.QUEUE_PREFIX,
    policy: { ...defaultProducerPolicy, maxRetries: env.MAX_RETRIES, maxDepth: env.MAX_DEPTH },
    depthCacheMs: env.DEPTH_CACHE_MS,
    publishTimeoutMs: env.PUBLISH_TIMEOUT_MS,
    adminToken: env.ADMIN_TOKEN,
  };
}
