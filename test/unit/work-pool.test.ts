import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Admission, type Slot, WorkPool } from '../../services/downstream/work-pool.ts';

const slotOf = (admission: Admission): Slot => {
  if (admission.kind !== 'slot') throw new Error(`expected a slot, got ${admission.kind}`);
  return admission.slot;
};

/** Admits `n` queued requests and records the order in which they get their slots. */
function queueUp(pool: WorkPool, n: number) {
  const order: number[] = [];
  const slots: Slot[] = [];
  for (let i = 0; i < n; i++) {
    const admission = pool.admit();
    if (admission.kind !== 'queued') throw new Error(`request ${i}: ${admission.kind}`);
    void admission.waiting.slot.then((slot) => {
      order.push(i);
      slots.push(slot);
    });
  }
  return { order, slots };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the downstream’s worker pool', () => {
  it('works on at most `concurrency`, queues up to `queueSize`, and refuses the rest', () => {
    const pool = new WorkPool({ concurrency: 2, queueSize: 1, order: 'fifo' });
    expect(pool.admit().kind).toBe('slot');
    expect(pool.admit().kind).toBe('slot');
    expect(pool.admit().kind).toBe('queued');
    expect(pool.admit().kind).toBe('full');
    expect([pool.active, pool.waiting]).toEqual([2, 1]);
  });

  it('hands a freed slot to the oldest waiter (fifo) or the newest (lifo)', async () => {
    for (const [order, expected] of [
      ['fifo', [0, 1, 2]],
      ['lifo', [2, 1, 0]],
    ] as const) {
      const pool = new WorkPool({ concurrency: 1, queueSize: 3, order });
      const first = slotOf(pool.admit());
      const queued = queueUp(pool, 3);
      first.release();
      for (let i = 0; i < 3; i++) {
        await tick();
        queued.slots.at(-1)!.release();
      }
      await tick();
      expect(queued.order, order).toEqual(expected);
      expect([pool.active, pool.waiting]).toEqual([0, 0]);
    }
  });

  it('forgets a waiter that leaves, and a slot released twice counts once', async () => {
    const pool = new WorkPool({ concurrency: 1, queueSize: 2, order: 'fifo' });
    const first = slotOf(pool.admit());
    const leaving = pool.admit();
    const staying = pool.admit();
    if (leaving.kind !== 'queued' || staying.kind !== 'queued') throw new Error('not queued');
    leaving.waiting.leave();
    expect(pool.waiting).toBe(1);
    first.release();
    first.release();
    const slot = await staying.waiting.slot;
    expect([pool.active, pool.waiting]).toEqual([1, 0]);
    slot.release();
    expect(pool.active).toBe(0);
  });

  it('never works on more than its concurrency, whatever the order of arrivals and releases', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom('fifo' as const, 'lifo' as const),
        fc.array(fc.boolean(), { maxLength: 40 }),
        async (concurrency, queueSize, order, steps) => {
          const pool = new WorkPool({ concurrency, queueSize, order });
          const held: Slot[] = [];
          for (const arrive of steps) {
            if (arrive) {
              const admission = pool.admit();
              if (admission.kind === 'slot') held.push(admission.slot);
              else if (admission.kind === 'queued')
                void admission.waiting.slot.then((slot) => held.push(slot));
            } else held.shift()?.release();
            await tick();
            if (pool.active > concurrency || pool.waiting > queueSize) return false;
            // Every slot the pool counts as taken is one a request holds.
            if (pool.active !== held.length) return false;
          }
          return true;
        },
      ),
    );
  });
});
