import { type Static, Type } from 'typebox';
import type { Clock } from '../shared/clock.ts';
import { SlidingWindowCounter } from './sliding-window.ts';

export const RetryBudgetPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /**
     * `window` (Finagle's RetryBudget): retries per request over a sliding window.
     * `concurrent` (Envoy's retry budget): retries in flight per request in flight.
     * `failure-ratio` (the breaker on retries of Brooker's "Fixing retries with token buckets
     * and circuit breakers", 2022): no retries while more than `ratio` of the attempts over
     * the window failed; first attempts always go.
     */
    kind: Type.Enum(['window', 'concurrent', 'failure-ratio'], { default: 'window' }),
    /**
     * window: retries allowed per request over the window; concurrent: per request in flight
     * (Envoy's budget_percent ÷ 100); failure-ratio: the failed share of attempts above which
     * retries stop.
     */
    ratio: Type.Number({ minimum: 0, maximum: 10, default: 0.1 }),
    /** window: retries always allowed per second, so a quiet service can still retry. */
    minRetriesPerSecond: Type.Number({ minimum: 0, maximum: 100_000, default: 5 }),
    windowMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
    /** concurrent: retries always allowed in flight (Envoy's min_retry_concurrency). */
    minRetryConcurrency: Type.Integer({ minimum: 0, maximum: 100_000, default: 3 }),
  },
  { additionalProperties: false },
);
export type RetryBudgetPolicy = Static<typeof RetryBudgetPolicy>;

/** What the retry layer asks of a budget; a request and a retry each say when they are over. */
export interface RetryBudget {
  recordRequest(): void;
  requestDone(): void;
  /** Takes one retry from the budget if there is one left. */
  tryAcquireRetry(): boolean;
  /** A retry taken with tryAcquireRetry is over (its attempt ended). */
  retryDone(): void;
  /** One attempt ended; `failed`: in a way that says something about the downstream's health. */
  recordAttempt(failed: boolean): void;
}

export function retryBudgetFor(policy: RetryBudgetPolicy, clock: Clock): RetryBudget {
  switch (policy.kind) {
    case 'concurrent':
      return new ConcurrentRetryBudget(policy);
    case 'failure-ratio':
      return new FailureRatioRetryBudget(policy, clock);
    case 'window':
      return new WindowRetryBudget(policy, clock);
  }
}

/**
 * A retry budget in the manner of Finagle's RetryBudget: over a sliding window, retries
 * may not exceed `ratio × requests + minRetriesPerSecond × windowSeconds`.
 */
export class WindowRetryBudget implements RetryBudget {
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

  requestDone(): void {}

  tryAcquireRetry(): boolean {
    if (this.#retries.total() >= this.allowance()) return false;
    this.#retries.add();
    return true;
  }

  retryDone(): void {}

  recordAttempt(): void {}

  allowance(): number {
    const { ratio, minRetriesPerSecond, windowMs } = this.#policy;
    return ratio * this.#requests.total() + minRetriesPerSecond * (windowMs / 1000);
  }
}

/**
 * Envoy's retry budget: retries in flight may not exceed
 * `max(minRetryConcurrency, ratio × requests in flight)`. A retry counts from when it is
 * granted (its backoff included) until its attempt ends.
 */
export class ConcurrentRetryBudget implements RetryBudget {
  readonly #policy: RetryBudgetPolicy;
  #requests = 0;
  #retries = 0;

  constructor(policy: RetryBudgetPolicy) {
    this.#policy = policy;
  }

  recordRequest(): void {
    this.#requests += 1;
  }

  requestDone(): void {
    this.#requests -= 1;
  }

  tryAcquireRetry(): boolean {
    if (this.#retries >= this.allowance()) return false;
    this.#retries += 1;
    return true;
  }

  retryDone(): void {
    this.#retries -= 1;
  }

  recordAttempt(): void {}

  allowance(): number {
    return Math.max(this.#policy.minRetryConcurrency, this.#policy.ratio * this.#requests);
  }
}

/**
 * A breaker on retries only (Brooker 2022): over a sliding window, while more than `ratio`
 * of the attempts failed, no retry; first attempts are never stopped.
 */
export class FailureRatioRetryBudget implements RetryBudget {
  readonly #ratio: number;
  readonly #attempts: SlidingWindowCounter;
  readonly #failures: SlidingWindowCounter;

  constructor(policy: RetryBudgetPolicy, clock: Clock) {
    this.#ratio = policy.ratio;
    this.#attempts = new SlidingWindowCounter(policy.windowMs, 10, clock);
    this.#failures = new SlidingWindowCounter(policy.windowMs, 10, clock);
  }

  recordRequest(): void {}

  requestDone(): void {}

  tryAcquireRetry(): boolean {
    const attempts = this.#attempts.total();
    return attempts === 0 || this.#failures.total() <= this.#ratio * attempts;
  }

  retryDone(): void {}

  recordAttempt(failed: boolean): void {
    this.#attempts.add();
    if (failed) this.#failures.add();
  }
}
