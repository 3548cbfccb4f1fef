import { type Static, Type } from 'typebox';
import type { Layer, PolicyEvents } from '../call.ts';
import { GatewayError } from '../errors.ts';

export const BulkheadPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    maxConcurrent: Type.Integer({ minimum: 1, maximum: 100_000, default: 40 }),
    /** Attempts allowed to wait for a slot; beyond it they are rejected at once. */
    maxQueue: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 2000 }),
  },
  { additionalProperties: false },
);
export type BulkheadPolicy = Static<typeof BulkheadPolicy>;

/**
 * At most `maxConcurrent` attempts at once, a bounded FIFO of waiters, instant
 * rejection beyond it. Hand-written: ~30 lines, and it must expose occupancy
 * for metrics; cockatiel's would bring a second resilience framework beside opossum.
 */
export class Bulkhead {
  readonly #maxConcurrent: number;
  readonly #maxQueue: number;
  #inUse = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(policy: BulkheadPolicy) {
    this.#maxConcurrent = policy.maxConcurrent;
    this.#maxQueue = policy.maxQueue;
  }

  get inUse(): number {
    return this.#inUse;
  }

  get queued(): number {
    return this.#waiters.length;
  }

  /** Resolves when a slot is held; throws `bulkhead_full` when slots and queue are full. */
  acquire(): Promise<void> | undefined {
    if (this.#inUse < this.#maxConcurrent) {
      this.#inUse += 1;
      return undefined;
    }
    if (this.#waiters.length >= this.#maxQueue) {
      throw new GatewayError(
        'bulkhead_full',
        `bulkhead full: ${this.#inUse} attempts in flight, ${this.#waiters.length} waiting`,
      );
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Hands the slot straight to the oldest waiter, if any. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#inUse -= 1;
  }
}

export function bulkheadLayer(bulkhead: Bulkhead, events: PolicyEvents): Layer {
  return (next) => async (ctx) => {
    try {
      await bulkhead.acquire();
    } catch (error) {
      events.bulkheadRejected();
      throw error;
    }
    try {
      return await next(ctx);
    } finally {
      bulkhead.release();
    }
  };
}
