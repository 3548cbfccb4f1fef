import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  defaultStrategies,
  type ProvidedRedis,
  provideRedis,
} from '../../load/stack/redis-provider.ts';
import { engineAnswers } from './containers.ts';

/**
 * Redis for a test file through the product's own provider: REDIS_URL, else — where a
 * container engine answers — a Redis container through testcontainers (the card:
 * integration tests via testcontainers), else a redis-server of our own; else the test
 * fails saying how to get one. Tests use unique queue names and never flush anything.
 */
export async function testRedis(): Promise<ProvidedRedis> {
  const prefer = (await engineAnswers()) ? 'container' : 'binary';
  return provideRedis(defaultStrategies(process.env), { prefer });
}

export const uniqueQueueName = (label: string) => `t-${label}-${randomUUID().slice(0, 8)}`;

export interface Closable {
  close(): Promise<unknown>;
}

/**
 * Registers hooks for a test file: one Redis for the file (stopped after it) and a
 * list of things each test opened, closed in reverse order after each test.
 */
export function useRedisPerFile(): { redis: () => ProvidedRedis; open: Closable[] } {
  let redis: ProvidedRedis | undefined;
  const open: Closable[] = [];
  beforeAll(async () => {
    redis = await testRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  return {
    redis: () => {
      if (redis === undefined) throw new Error('Redis is only available inside tests');
      return redis;
    },
    open,
  };
}
