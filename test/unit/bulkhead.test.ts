import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../services/gateway/errors.ts';
import { Bulkhead } from '../../services/gateway/layers/bulkhead.ts';

describe('Bulkhead', () => {
  it('admits maxConcurrent at once, queues maxQueue, rejects the rest at once', async () => {
    const bulkhead = new Bulkhead({ enabled: true, maxConcurrent: 2, maxQueue: 1 });
    expect(bulkhead.acquire()).toBeUndefined();
    expect(bulkhead.acquire()).toBeUndefined();
    const waiting = bulkhead.acquire();
    expect(waiting).toBeInstanceOf(Promise);
    expect(bulkhead.queued).toBe(1);
    expect(() => bulkhead.acquire()).toThrowError(GatewayError);
    expect(() => bulkhead.acquire()).toThrow(expect.objectContaining({ kind: 'bulkhead_full' }));
    bulkhead.release();
    await waiting;
    expect(bulkhead.inUse).toBe(2);
    expect(bulkhead.queued).toBe(0);
    bulkhead.release();
    bulkhead.release();
    expect(bulkhead.inUse).toBe(0);
  });

  it('hands freed slots to waiters in arrival order', async () => {
    const bulkhead = new Bulkhead({ enabled: true, maxConcurrent: 1, maxQueue: 3 });
    expect(bulkhead.acquire()).toBeUndefined();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      (bulkhead.acquire() as Promise<void>).then(() => order.push(n)),
    );
    for (let i = 0; i < 3; i += 1) {
      bulkhead.release();
      await Promise.resolve();
    }
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });
});
