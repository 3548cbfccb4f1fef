import { Type } from 'typebox';

/** Env shared by the producer, the worker and the DLQ CLI: where the queue lives. */
export const redisUrlPattern = '^rediss?://';

export const defaultRedisUrl = 'redis://127.0.0.1:6379';

export const queueEnv = {
  REDIS_URL: Type.String({ pattern: redisUrlPattern, default: defaultRedisUrl }),
  QUEUE_NAME: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$', default: 'events' }),
  /** BullMQ key prefix; use a hash tag such as `{cascade}` for Redis Cluster. */
  QUEUE_PREFIX: Type.String({ minLength: 1, maxLength: 100, default: 'cascade' }),
};
