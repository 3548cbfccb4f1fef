import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { workerConnection } from '../../services/shared/redis-connection.ts';
import { KeyLocks } from '../../services/worker/key-lock.ts';
import { eventually } from '../support/http.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';

const { redis: currentRedis, open } = useRedisPerFile();

/** Locks under a prefix of the test's own, on a connection of their own (as a worker's). */
function locks(prefix = uniqueQueueName('lock')) {
  const connection = workerConnection(currentRedis().url);
  connection.on('error', () => {});
  open.push({ close: async () => connection.disconnect() });
  return { locks: new KeyLocks(connection, prefix), connection, prefix };
}

describe('the per-key Redis lock (SET NX with a token, renewed, released by its owner)', () => {
  it('lets one holder in at a time, and the next in once it is released', async () => {
    const { locks: a } = locks();
    const held = await a.acquire('topic/billing/e1', 5000);
    expect(held).toBeDefined();
    expect(await a.acquire('topic/billing/e1', 5000)).toBeUndefined();
    expect(await a.acquire('topic/billing/e2', 5000)).toBeDefined();
    await held!.release();
    expect(await a.acquire('topic/billing/e1', 5000)).toBeDefined();
  });

  it('keeps a held lock past its time by renewing it, and lets a dead holder’s lapse', async () => {
    const { locks: a, prefix } = locks();
    const held = await a.acquire('k', 2000);
    // 5 s: without its renewals the lock would have lapsed twice over (seconds, not
    // hundreds of ms: a busy machine may stall a renewal that long).
    await sleep(5000);
    expect(await a.acquire('k', 2000)).toBeUndefined();
    await held!.release();
    // A holder that dies (its connection gone: no renewal, no release) loses it when its time is up.
    const { locks: dying, connection } = locks(prefix);
    expect(await dying.acquire('gone', 3000)).toBeDefined();
    connection.disconnect();
    const { locks: next } = locks(prefix);
    expect(await next.acquire('gone', 3000)).toBeUndefined();
    // Free once its 3 s are up: waited on, not slept for.
    await eventually(async () => expect(await next.acquire('gone', 3000)).toBeDefined(), 20_000);
  });

  it('is released only by its owner: a late release after it lapsed leaves the new holder’s lock', async () => {
    const { locks: a, connection, prefix } = locks();
    const first = await a.acquire('shared', 5000);
    // It lapses (as if its holder stalled past its time) and a second holder takes it.
    await connection.del(`${prefix}:lock:shared`);
    const second = await a.acquire('shared', 5000);
    expect(second).toBeDefined();
    await first!.release();
    expect(await a.acquire('shared', 5000)).toBeUndefined();
    await second!.release();
    expect(await a.acquire('shared', 5000)).toBeDefined();
  });
});
