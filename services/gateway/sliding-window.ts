import type { Clock } from '../shared/clock.ts';

/**
 * A count over the last `windowMs`, kept in `buckets` slices so old counts fall
 * off in steps of windowMs/buckets. Hand-written: a dozen lines, and the retry
 * budget and the throttle both need it with an injected clock.
 */
export class SlidingWindowCounter {
  readonly #bucketMs: number;
  readonly #counts: number[];
  readonly #epochs: number[];
  readonly #clock: Clock;

  constructor(windowMs: number, buckets: number, clock: Clock) {
    this.#bucketMs = windowMs / buckets;
    this.#counts = new Array<number>(buckets).fill(0);
    this.#epochs = new Array<number>(buckets).fill(-1);
    this.#clock = clock;
  }

  add(amount = 1): void {
    const epoch = Math.floor(this.#clock() / this.#bucketMs);
    const slot = epoch % this.#counts.length;
    if (this.#epochs[slot] !== epoch) {
      this.#epochs[slot] = epoch;
      this.#counts[slot] = 0;
    }
    this.#counts[slot] = (this.#counts[slot] ?? 0) + amount;
  }

  total(): number {
    const oldest = Math.floor(this.#clock() / this.#bucketMs) - this.#counts.length;
    let sum = 0;
    for (let slot = 0; slot < this.#counts.length; slot += 1) {
      if ((this.#epochs[slot] ?? -1) > oldest) sum += this.#counts[slot] ?? 0;
    }
    return sum;
  }
}
