import { randomUUID } from 'node:crypto';
import {
  defaultStrategies,
  type ProvidedRedis,
  provideRedis,
} from '../../services/shared/redis-provider.ts';

/**
 * Redis for a test file through the product's own provider: REDIS_URL, else a
 * redis-server of our own, else testcontainers — else the test fails saying how
 * to get one. Tests use unique queue names and never flush anything.
 */
export function testRedis(): Promise<ProvidedRedis> {
  return provideRedis(defaultStrategies(process.env));
}

export const uniqueQueueName = (label: string) => `t-${label}-${randomUUID().slice(0, 8)}`;
