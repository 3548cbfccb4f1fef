import type { Counter } from 'prom-client';
import type { Clock } from './clock.ts';

/**
 * How long a condition has held in total (a breaker open, a downstream overloaded),
 * kept exactly as it changes rather than sampled. Pure; the clock is injected.
 */
export class TimeInState {
  readonly #clock: Clock;
  #since: number | null = null;
  #totalMs = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  set(holds: boolean): void {
    const now = this.#clock();
    if (holds && this.#since === null) this.#since = now;
    else if (!holds && this.#since !== null) {
      this.#totalMs += now - this.#since;
      this.#since = null;
    }
  }

  /** The total so far, the current stretch included. */
  seconds(): number {
    const ongoing = this.#since === null ? 0 : this.#clock() - this.#since;
    return (this.#totalMs + ongoing) / 1000;
  }

  /** A `collect` for a counter of seconds: it reads the total at every scrape. */
  collector(): (this: Counter) => void {
    const seconds = () => this.seconds();
    return function collect(this: Counter) {
      this.reset();
      this.inc(seconds());
    };
  }
}
