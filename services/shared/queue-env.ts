import { Type } from 'typebox';
import { hashTagOf, parseClusterNodes, type RedisTarget } from './redis-connection.ts';

/** Env shared by the producer, the worker and the DLQ CLI: where the queue lives. */
export const redisUrlPattern = '^rediss?://';

export const defaultRedisUrl = 'redis://127.0.0.1:6379';

/** The BullMQ key prefix on one node, and on a cluster (a hash tag: one slot for every key). */
export const defaultQueuePrefix = 'cascade';
export const defaultClusterQueuePrefix = '{cascade}';

export const queueEnv = {
  REDIS_URL: Type.String({ pattern: redisUrlPattern, default: defaultRedisUrl }),
  /** A Redis Cluster instead of REDIS_URL: `host:port,host:port,…` (see parseClusterNodes). */
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  QUEUE_NAME: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$', default: 'events' }),
  /** BullMQ key prefix; unset: `cascade`, or `{cascade}` on a cluster. */
  QUEUE_PREFIX: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
};

export interface QueueLocation {
  redis: RedisTarget;
  queuePrefix: string;
}

/**
 * Where the queue lives, from REDIS_URL / REDIS_CLUSTER_NODES and QUEUE_PREFIX: the
 * location, or one problem per variable (`NAME: why`). On a cluster the prefix must
 * carry a hash tag: BullMQ's scripts and our fan-out's MULTI touch several keys at once,
 * and a cluster refuses that (CROSSSLOT) unless every key hashes to one slot.
 */
export function queueLocation(env: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  QUEUE_PREFIX?: string | undefined;
}): QueueLocation | { problems: string[] } {
  const nodes = env.REDIS_CLUSTER_NODES;
  if (nodes === undefined || nodes === '')
    return {
      redis: env.REDIS_URL ?? defaultRedisUrl,
      queuePrefix: env.QUEUE_PREFIX ?? defaultQueuePrefix,
    };
  const problems: string[] = [];
  const cluster = parseClusterNodes(nodes);
  if (typeof cluster === 'string')
    problems.push(`REDIS_CLUSTER_NODES: ${cluster} (got ${JSON.stringify(nodes)})`);
  const queuePrefix = env.QUEUE_PREFIX ?? defaultClusterQueuePrefix;
  if (hashTagOf(queuePrefix) === undefined)
    problems.push(
      `QUEUE_PREFIX: must hold a hash tag such as ${defaultClusterQueuePrefix} on a Redis Cluster, so that every key of the queues hashes to one slot; BullMQ's scripts use several keys at once and the cluster refuses them otherwise (CROSSSLOT) (got ${JSON.stringify(queuePrefix)})`,
    );
  return typeof cluster === 'string' || problems.length > 0
    ? { problems }
    : { redis: cluster, queuePrefix };
}

/** The problems of queueLocation, for loadConfig's check: none when the location is good. */
export const queueLocationProblems = (env: Parameters<typeof queueLocation>[0]): string[] => {
  const location = queueLocation(env);
  return 'problems' in location ? location.problems : [];
};

/** The location of an env that loadConfig checked with queueLocationProblems. */
export function checkedQueueLocation(env: Parameters<typeof queueLocation>[0]): QueueLocation {
  const location = queueLocation(env);
  if ('problems' in location) throw new Error(location.problems.join('; '));
  return location;
}
