import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Rng } from '../../shared/rng.ts';
import { type BackoffPolicy, backoffDelayMs } from '../../shared/backoff.ts';
import type { Layer, PolicyEvents } from '../call.ts';
import { asGatewayError, type GatewayError, type GatewayErrorKind } from '../errors.ts';
import type { RetryBudget } from '../retry-budget.ts';
import type { RetryCause, RetryTokens } from '../retry-tokens.ts';

export interface RetryOptions {
  maxRetries: number;
  backoff: BackoffPolicy;
  rng: Rng;
  events: PolicyEvents;
  budget?: RetryBudget | undefined;
  /** Token-bucket retry throttling (gRPC A6, the AWS SDKs' retry quota). */
  tokens?: RetryTokens | undefined;
  /** Retry the downstream's 503 overloaded and 504 deadline_exceeded too (else: don't retry now). */
  retryOnOverload?: boolean;
  /** Retrying into an open breaker only burns attempts: stop and return the error. */
  isCircuitOpen: () => boolean;
  sleep?: (ms: number) => Promise<unknown>;
}

/** Refused before reaching the downstream: not an attempt the failure ratio counts. */
const localRejections = new Set<GatewayErrorKind>([
  'circuit_open',
  'bulkhead_full',
  'concurrency_limited',
  'throttled',
]);

const causeOf = (error: GatewayError): RetryCause =>
  error.kind === 'timeout'
    ? 'timeout'
    : error.kind === 'downstream_overloaded' || error.kind === 'deadline_exceeded'
      ? 'overload'
      : 'other';

/**
 * Retries retryable failures (timeout, connection error, 5xx, 409) up to `maxRetries`
 * times with backoff; never 4xx, never local rejections, never while the breaker is open,
 * never beyond the retry budget or the token bucket, and never the downstream's
 * "overloaded; don't retry" (503 with Retry-After, 504 deadline_exceeded) unless
 * `retryOnOverload`.
 */
export function retryLayer(options: RetryOptions): Layer {
  const sleep = options.sleep ?? sleepMs;
  const { budget, tokens, events } = options;
  return (next) => async (ctx) => {
    budget?.recordRequest();
    let previousDelayMs: number | undefined;
    let lastRetryCost: number | undefined;
    let holdsRetry = false;
    try {
      for (let retry = 0; ; retry += 1) {
        ctx.state.attempts += 1;
        try {
          const reply = await next(ctx);
          budget?.recordAttempt(false);
          tokens?.succeeded(lastRetryCost);
          return reply;
        } catch (thrown) {
          const error = asGatewayError(thrown);
          const overload =
            error.kind === 'downstream_overloaded' || error.kind === 'deadline_exceeded';
          if (!localRejections.has(error.kind)) budget?.recordAttempt(error.retryable || overload);
          if (error.retryable || overload) tokens?.failed();
          if (retry >= options.maxRetries) throw error;
          if (overload && !options.retryOnOverload) {
            events.retryDenied('overloaded');
            throw error;
          }
          if (!error.retryable && !overload) throw error;
          if (options.isCircuitOpen()) {
            events.retryDenied('circuit_open');
            throw error;
          }
          if (holdsRetry) budget?.retryDone();
          holdsRetry = false;
          if (budget && !budget.tryAcquireRetry()) {
            events.retryDenied('budget');
            throw error;
          }
          holdsRetry = budget !== undefined;
          if (tokens) {
            lastRetryCost = tokens.tryRetry(causeOf(error));
            if (lastRetryCost === undefined) {
              events.retryDenied('tokens');
              throw error;
            }
          }
          events.retry();
          previousDelayMs = backoffDelayMs(
            retry + 1,
            options.backoff,
            options.rng,
            previousDelayMs,
          );
          if (previousDelayMs > 0) await sleep(previousDelayMs);
        }
      }
    } finally {
      if (holdsRetry) budget?.retryDone();
      budget?.requestDone();
    }
  };
}
