import { type Static, Type } from 'typebox';
import { commonEnv, loadConfig, type Shedding, sheddingOf } from '../shared/config.ts';
import { defaultProducerPolicy, ProducerPolicy } from '../shared/event-job.ts';
import { checkedQueueLocation, queueEnv, queueLocationProblems } from '../shared/queue-env.ts';
import type { RedisTarget } from '../shared/redis-connection.ts';
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
  /** Answer 202 only once this many replicas acknowledged the add (Redis WAIT); 0: do not wait. */
  PUBLISH_WAIT_REPLICAS: Type.Integer({ minimum: 0, maximum: 16, default: 0 }),
});
export type ProducerEnv = Static<typeof ProducerEnv>;

export interface ProducerConfig {
  /** Event-loop-based shedding: 503 under_pressure while the loop lags (both 0: off). */
  shedding?: Shedding | undefined;
  /** One Redis node (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
  redis: RedisTarget;
  queueName: string;
  queuePrefix: string;
  /** Named subscribers of the topic `queueName`; none: the queue `queueName` alone. */
  subscribers: string[];
  policy: ProducerPolicy;
  depthCacheMs: number;
  publishTimeoutMs: number;
  /** Replicas that must acknowledge each add before the 202 (WAIT, within publishTimeoutMs); 0: none. */
  publishWaitReplicas: number;
  adminToken?: string | undefined;
}

export function loadProducerEnv(env: Record<string, string | undefined>) {
  return loadConfig(ProducerEnv, env, queueLocationProblems);
}

export function toProducerConfig(env: ProducerEnv): ProducerConfig {
  const { redis, queuePrefix } = checkedQueueLocation(env);
  return {
    redis,
    queueName: env.QUEUE_NAME,
    queuePrefix,
    subscribers: parseSubscribers(env.SUBSCRIBERS),
    policy: { ...defaultProducerPolicy, maxRetries: env.MAX_RETRIES, maxDepth: env.MAX_DEPTH },
    depthCacheMs: env.DEPTH_CACHE_MS,
    publishTimeoutMs: env.PUBLISH_TIMEOUT_MS,
    publishWaitReplicas: env.PUBLISH_WAIT_REPLICAS,
    adminToken: env.ADMIN_TOKEN,
    shedding: sheddingOf(env),
  };
}
