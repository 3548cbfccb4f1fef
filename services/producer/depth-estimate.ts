import type { Clock } from '../shared/clock.ts';

/**
 * The queue's depth without a Redis round trip per request: the last count read
 * (at most `ttlMs` old) plus the places this producer reserved since that read began.
 * `admit` checks and reserves in one synchronous step, before the caller awaits the
 * add, so concurrent requests cannot all pass the same check: this producer alone never
 * overshoots `maxDepth`; other producers can add at most what they accept within one
 * `ttlMs`. One refresh runs at a time.
 */
export class DepthEstimate {
  readonly #read: () => Promise<number>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  #depth = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #addedSinceRead = 0;
  #refreshing: Promise<void> | undefined;
  /** Counts refreshes begun; a reservation made before the latest one began is in its count. */
  #generation = 0;

  constructor(read: () => Promise<number>, ttlMs: number, clock: Clock) {
    this.#read = read;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** Rejects when the count cannot be read (Redis away) and the last one is too old. */
  async current(): Promise<number> {
    await this.#fresh();
    return this.#depth + this.#addedSinceRead;
  }

  async #fresh(): Promise<void> {
    if (this.#clock() - this.#readAt > this.#ttlMs) {
      this.#refreshing ??= this.#refresh().finally(() => {
        this.#refreshing = undefined;
      });
      await this.#refreshing;
    }
  }

  /**
   * The depth now and, when it is below `maxDepth`, a place taken in the same step (no
   * await between the check and the reservation). `cancel` gives back a place that ended
   * up empty (a duplicate id, a failed add).
   */
  async admit(maxDepth: number): Promise<{ depth: number; cancel?: () => void }> {
    await this.#fresh();
    const depth = this.#depth + this.#addedSinceRead;
    return depth >= maxDepth ? { depth } : { depth, cancel: this.reserve() };
  }

  /** Takes a place in the estimate now; answers its cancel. */
  reserve(): () => void {
    this.#addedSinceRead += 1;
    const generation = this.#generation;
    let cancelled = false;
    return () => {
      // A refresh begun since the reservation already dropped it from the count.
      if (cancelled || generation !== this.#generation) return;
      cancelled = true;
      this.#addedSinceRead -= 1;
    };
  }

  async #refresh(): Promise<void> {
    const startedAt = this.#clock();
    this.#generation += 1;
    const addedBefore = this.#addedSinceRead;
    const depth = await this.#read();
    this.#depth = depth;
    // Adds that raced the read may be counted twice: the estimate errs high, never low.
    this.#addedSinceRead -= addedBefore;
    this.#readAt = startedAt;
  }
}
