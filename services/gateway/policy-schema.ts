import { type Static, Type } from 'typebox';
import { ThrottlingPolicy } from './adaptive-throttle.ts';
import { BackoffPolicy } from '../shared/backoff.ts';
import { BreakerPolicy } from './layers/breaker.ts';
import { AdaptiveConcurrencyPolicy } from './layers/adaptive-concurrency.ts';
import { BulkheadPolicy } from './layers/bulkhead.ts';
import { RetryBudgetPolicy } from './retry-budget.ts';
import { RetryTokensPolicy } from './retry-tokens.ts';

/** The gateway's resilience policy, every layer's fields; the defaults are the seed's. */
export const Policy = Type.Object(
  {
    perAttemptTimeoutMs: Type.Integer({ minimum: 1, maximum: 600_000, default: 120 }),
    /** Up to 1000: Brooker's contending clients retry until they succeed. */
    maxRetries: Type.Integer({ minimum: 0, maximum: 1000, default: 3 }),
    /**
     * Retry the downstream's own "don't retry now" too: 503 overloaded (with Retry-After)
     * and 504 deadline_exceeded. Off: retry only at the layer above the failure.
     */
    retryOnOverload: Type.Boolean({ default: false }),
    backoff: BackoffPolicy,
    breaker: BreakerPolicy,
    bulkhead: BulkheadPolicy,
    adaptiveConcurrency: AdaptiveConcurrencyPolicy,
    retryBudget: RetryBudgetPolicy,
    retryTokens: RetryTokensPolicy,
    throttling: ThrottlingPolicy,
    /**
     * Client instances: this many independent policy states (breaker, bulkhead, budget,
     * token bucket, throttle), the requests spread over them in turn, as N instances of a
     * client would have. 1: one state for the whole gateway.
     */
    clients: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }),
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof Policy>;
