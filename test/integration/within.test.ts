import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Unavailable, within } from '../../services/producer/within.ts';
import { useRedisPerFile } from '../support/redis.ts';

const { redis } = useRedisPerFile();
let client: Redis;
beforeAll(() => {
  client = new Redis(redis().url);
});
afterAll(() => client.quit());

/** Blocks this process's event loop, as CPU contention or a long GC does. */
function stall(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** A plain race of the answer against a timer: what `within` must do better than. */
const plainRace = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('timeout')), ms)),
  ]);

describe('within (the producer timeout)', () => {
  it('keeps an answer that arrived in time while the event loop was stalled past the timeout', async () => {
    await client.ping();
    // Both ask, then the loop stalls: Redis answers at once, its reply waits in the socket.
    const guarded = within(client.ping(), 50);
    const raced = plainRace(client.ping(), 50);
    stall(300);
    const [kept, lost] = await Promise.allSettled([guarded, raced]);
    expect(kept).toEqual({ status: 'fulfilled', value: 'PONG' });
    // The hazard is real: a plain race reports the same answer as a timeout.
    expect(lost).toMatchObject({ status: 'rejected', reason: new Error('timeout') });
  });

  it('rejects with Unavailable when nothing answers', async () => {
    const never = new Promise<never>(() => {});
    await expect(within(never, 20)).rejects.toBeInstanceOf(Unavailable);
    await expect(within(never, 20)).rejects.toThrow('Redis did not answer within 20 ms');
  });
});
