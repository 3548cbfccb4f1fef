import CircuitBreaker from 'opossum';
import { type Static, Type } from 'typebox';
import type {
  BreakerState,
  Call,
  CallContext,
  DownstreamReply,
  Layer,
  PolicyEvents,
} from '../call.ts';
import { GatewayError } from '../errors.ts';

export const BreakerPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    /** Calls the breaker must have seen in the rolling window before it may open (opossum `volumeThreshold`). */
    windowSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
    /** Open when at least this many of `windowSize` calls failed (opossum `errorThresholdPercentage`). */
    failureThreshold: Type.Integer({ minimum: 1, maximum: 100_000, default: 8 }),
    /** How long the breaker stays open before one trial call (opossum `resetTimeout`). */
    openMs: Type.Integer({ minimum: 1, maximum: 600_000, default: 500 }),
    /** opossum counts over time, not over the last N calls (opossum `rollingCountTimeout`). */
    rollingWindowMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }),
  },
  { additionalProperties: false },
);
export type BreakerPolicy = Static<typeof BreakerPolicy>;

export interface Breaker {
  layer: Layer;
  state(): BreakerState;
  shutdown(): void;
}

/**
 * The seed's breaker ("open when ≥ 8 of the last 20 calls failed, for 500 ms") on opossum,
 * which counts over a rolling time window, not the last N calls: it opens when the last
 * `rollingWindowMs` holds ≥ volumeThreshold calls and failures/calls > errorThresholdPercentage,
 * so ≥ 8/20 becomes volumeThreshold 20 and a threshold a hair under 40 %; at fewer calls per
 * window it does not open at all (docs/resilience.md, test/unit/breaker.test.ts). Only failures that say
 * something about downstream health count (5xx, timeouts, connection errors);
 * half-open lets exactly one trial through. opossum's own timeout is off: the
 * timeout layer aborts the request itself.
 */
export function createBreaker(policy: BreakerPolicy, events: PolicyEvents): Breaker {
  const breaker = new CircuitBreaker(
    (ctx: CallContext, next: Call): Promise<DownstreamReply> => next(ctx),
    {
      timeout: false,
      resetTimeout: policy.openMs,
      rollingCountTimeout: policy.rollingWindowMs,
      rollingCountBuckets: 10,
      volumeThreshold: policy.windowSize,
      errorThresholdPercentage: (100 * policy.failureThreshold) / policy.windowSize - 1e-9,
      errorFilter: (error: unknown) => !(error instanceof GatewayError && error.breakerFailure),
      // opossum keeps every call's latency for percentiles we never read, and on each
      // failure concatenates and sorts the whole window's: off (found in bench/).
      rollingPercentilesEnabled: false,
    },
  );
  let state: BreakerState = 'closed';
  const moveTo = (next: BreakerState) => () => {
    state = next;
    events.breakerTransition(next);
  };
  breaker.on('open', moveTo('open'));
  breaker.on('halfOpen', moveTo('half_open'));
  breaker.on('close', moveTo('closed'));
  breaker.on('reject', () => events.breakerFastFail());

  const layer: Layer = (next) => (ctx) =>
    breaker.fire(ctx, next).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new GatewayError(
          'circuit_open',
          'circuit breaker is open: failing fast without calling downstream',
        );
      }
      throw error;
    });

  return { layer, state: () => state, shutdown: () => breaker.shutdown() };
}
