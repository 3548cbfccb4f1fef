import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Rng } from '../../shared/rng.ts';
import { type BackoffPolicy, backoffDelayMs } from '../../shared/backoff.ts';
import type { Layer, PolicyEvents } from '../call.ts';
import { asGatewayError } from '../errors.ts';
import type { RetryBudget } from '../retry-budget.ts';

export interface RetryOptions {
  maxRetries: number;
  backoff: BackoffPolicy;
  rng: Rng;
  events: PolicyEvents;
  budget?: RetryBudget | undefined;
  /** Retry the downstream's 503 overloaded and 504 deadline_exceeded too (else: don't retry now). */
  retryOnOverload?: boolean;
  /** Retrying into an open breaker only burns attempts: stop and return the error. */
  isCircuitOpen: () => boolean;
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Retries retryable failures (timeout, connection error, 5xx) up to
 * `maxRetries` times with backoff; never 4xx, never local rejections, never
 * while the breaker is open, never beyond the retry budget, and never the downstream's
 * "overloaded; don't retry" (503 with Retry-After, 504 deadline_exceeded) unless
 * `retryOnOverload`.
 */
export function retryLayer(options: RetryOptions): Layer {
  const sleep = options.sleep ?? sleepMs;
  return (next) => async (ctx) => {
    options.budget?.recordRequest();
    let previousDelayMs: number | undefined;
    for (let retry = 0; ; retry += 1) {
      ctx.state.attempts += 1;
      try {
        return await next(ctx);
      } catch (thrown) {
        const error = asGatewayError(thrown);
        const overload =
          error.kind === 'downstream_overloaded' || error.kind === 'deadline_exceeded';
        if (retry >= options.maxRetries) throw error;
        if (overload && !options.retryOnOverload) {
          options.events.retryDenied('overloaded');
          throw error;
        }
        if (!error.retryable && !overload) throw error;
        if (options.isCircuitOpen()) {
          options.events.retryDenied('circuit_open');
          throw error;
        }
        if (options.budget && !options.budget.tryAcquireRetry()) {
          options.events.retryDenied('budget');
          throw error;
        }
        options.events.retry();
        previousDelayMs = backoffDelayMs(retry + 1, options.backoff, options.rng, previousDelayMs);
        if (previousDelayMs > 0) await sleep(previousDelayMs);
      }
    }
  };
}
