import type { Clock } from '../shared/clock.ts';

/**
 * The queue's depth without a Redis round trip per request: the last count read
 * (at most `ttlMs` old) plus the jobs this producer added since that read began.
 * So this producer alone never overshoots `maxDepth`; other producers can add at
 * most what they accept within one `ttlMs`. One refresh runs at a time.
 */
export class DepthEstimate {
  readonly #read: () => Promise<number>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  #depth = 0;
  #readAt = Number.NEGATIVE_INFINITY;
  #addedSinceRead = 0;
  #refreshing: Promise<void> | undefined;

  constructor(read: () => Promise<number>, ttlMs: number, clock: Clock) {
    this.#read = read;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
  }

  /** Rejects when the count cannot be read (Redis away) and the last one is too old. */
  async current(): Promise<number> {
    if (this.#clock() - this.#readAt > this.#ttlMs) {
      this.#refreshing ??= this.#refresh().finally(() => {
        this.#refreshing = undefined;
      });
      await this.#refreshing;
    }
    return this.#depth + this.#addedSinceRead;
  }

  recordAdded(): void {
    this.#addedSinceRead += 1;
  }

  async #refresh(): Promise<void> {
    const startedAt = this.#clock();
    const addedBefore = this.#addedSinceRead;
    const depth = await this.#read();
    this.#depth = depth;
    // Adds that raced the read may be counted twice: the estimate errs high, never low.
    this.#addedSinceRead -= addedBefore;
    this.#readAt = startedAt;
  }
}
