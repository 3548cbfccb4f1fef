import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { defaultProducerPolicy, ProducerPolicy } from '../shared/event-job.ts';
import { queueEnv } from '../shared/queue-env.ts';
import { parseSubscribers, subscribersEnv } from '../shared/topic.ts';

export const ProducerEnv = Type.Object({
  ...commonEnv(8082),
  ...queueEnv,
  MAX_RETRIES: ProducerPolicy.properties.maxRetries,
  MAX_DEPTH: ProducerPolicy.properties.maxDepth,
  /** The topic's subscribers, each with a queue of its own; empty: one, the queue QUEUE_NAME. */
  SUBSCRIBERS: subscribersEnv,
  DEPTH_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 100 }),
  PUBLISH_TIMEOUT_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 1000 }),
});
export type ProducerEnv = Static<typeof ProducerEnv>;

export interface ProducerConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  redisUrl: string;
  queueName: string;
  queuePrefix: string;
  /** Named subscribers of the topic `queueName`; none: the queue `queueName` alone. */
  subscribers: string[];
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
    subscribers: parseSubscribers(env.SUBSCRIBERS),
    policy: { ...defaultProducerPolicy, maxRetries: env.MAX_RETRIES, maxDepth: env.MAX_DEPTH },
    depthCacheMs: env.DEPTH_CACHE_MS,
    publishTimeoutMs: env.PUBLISH_TIMEOUT_MS,
    adminToken: env.ADMIN_TOKEN,
    shedding: sheddingOf(env),
  };
}
