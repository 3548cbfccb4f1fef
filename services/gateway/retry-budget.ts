import { type Static, Type } from 'typebox';
import type { Clock } from '../shared/clock.ts';
import { SlidingWindowCounter } from './sliding-window.ts';

export const RetryBudgetPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /** Retries allowed per request over the window. */
    ratio: Type.Number({ minimum: 0, maximum: 10, default: 0.1 }),
    /** Retries always allowed per second, so a quiet service can still retry. */
    minRetriesPerSecond: Type.Number({ minimum: 0, maximum: 100_000, default: 5 }),
    windowMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  },
  { additionalProperties: false },
);
export type RetryBudgetPolicy = Static<typeof RetryBudgetPolicy>;

/**
 * A retry budget in the manner of Finagle's RetryBudget and Envoy's retry
 * budgets: over a sliding window, retries may not exceed
 * `ratio × requests + minRetriesPerSecond × windowSeconds`.
 */
export class RetryBudget {
  readonly #policy: RetryBudgetPolicy;
  readonly #requests: SlidingWindowCounter;
  readonly #retries: SlidingWindowCounter;

  constructor(policy: RetryBudgetPolicy, clock: Clock) {
    this.#policy = policy;
    this.#requests = new SlidingWindowCounter(policy.windowMs, 10, clock);
    this.#retries = new SlidingWindowCounter(policy.windowMs, 10, clock);
  }

  recordRequest(): void {
    this.#requests.add();
  }

  /** Takes one retry from the budget if there is one left. */
  tryAcquireRetry(): boolean {
    if (this.#retries.total() >= this.allowance()) return false;
    this.#retries.add();
    return true;
  }

  allowance(): number {
    const { ratio, minRetriesPerSecond, windowMs } = this.#policy;
    return ratio * this.#requests.total() + minRetriesPerSecond * (windowMs / 1000);
  }
}
