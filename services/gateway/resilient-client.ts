import type { Dispatcher } from 'undici';
import type { Clock } from '../shared/clock.ts';
import type { Rng } from '../shared/rng.ts';
import { AdaptiveThrottle } from './adaptive-throttle.ts';
import { type BreakerState, type Call, compose, type Layer, type PolicyEvents } from './call.ts';
import { createBreaker } from './layers/breaker.ts';
import type { AdaptiveLimit } from './adaptive-limit.ts';
import { adaptiveConcurrencyLayer, limiterFor } from './layers/adaptive-concurrency.ts';
import { Bulkhead, bulkheadLayer } from './layers/bulkhead.ts';
import { retryLayer } from './layers/retry.ts';
import { throttleLayer } from './layers/throttle.ts';
import { timeoutLayer } from './layers/timeout.ts';
import type { Policy } from './policy.ts';
import { RetryBudget } from './retry-budget.ts';
import { createTransport } from './transport.ts';
import type { PoolOccupancy } from '../shared/downstream-work.ts';

export interface ResilientClientDeps {
  dispatcher: Dispatcher;
  /** How one attempt goes over the wire; `POST /work` (createTransport) unless given. */
  transport?: (dispatcher: Dispatcher, events: PolicyEvents) => Call;
  /** The dispatcher's connections in use, shared by every pipeline the policy builds. */
  occupancy?: PoolOccupancy;
  events: PolicyEvents;
  rng: Rng;
  clock: Clock;
  sleep?: (ms: number) => Promise<unknown>;
}

interface Pipeline {
  call: Call;
  bulkhead?: Bulkhead | undefined;
  limiter?: AdaptiveLimit | undefined;
  throttle?: AdaptiveThrottle | undefined;
  breakerState: () => BreakerState;
  shutdown: () => void;
}

/**
 * The policy, outermost first — this order is the policy:
 *   retry (backoff, budget) → throttle → adaptive concurrency → bulkhead → breaker →
 *   per-attempt timeout → HTTP
 * Retries wrap whole attempts; each attempt is throttled, waits for a bulkhead
 * slot, passes the breaker and is timed out on its own.
 */
function buildPipeline(policy: Policy, deps: ResilientClientDeps): Pipeline {
  const { events, rng, clock } = deps;
  const breaker = policy.breaker.enabled ? createBreaker(policy.breaker, events) : undefined;
  const bulkhead = policy.bulkhead.enabled ? new Bulkhead(policy.bulkhead) : undefined;
  const limiter = policy.adaptiveConcurrency.enabled
    ? limiterFor(policy.adaptiveConcurrency)
    : undefined;
  const throttle = policy.throttling.enabled
    ? new AdaptiveThrottle(policy.throttling, clock)
    : undefined;
  const budget = policy.retryBudget.enabled
    ? new RetryBudget(policy.retryBudget, clock)
    : undefined;
  const layers: Layer[] = [
    retryLayer({
      maxRetries: policy.maxRetries,
      retryOnOverload: policy.retryOnOverload,
      backoff: policy.backoff,
      rng,
      events,
      budget,
      isCircuitOpen: () => breaker?.state() === 'open',
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    }),
  ];
  if (throttle) layers.push(throttleLayer(throttle, rng, events));
  if (limiter) layers.push(adaptiveConcurrencyLayer(limiter));
  if (bulkhead) layers.push(bulkheadLayer(bulkhead, events));
  if (breaker) layers.push(breaker.layer);
  layers.push(timeoutLayer(policy.perAttemptTimeoutMs, events));
  return {
    call: compose(...layers)(
      deps.transport
        ? deps.transport(deps.dispatcher, events)
        : createTransport(deps.dispatcher, events, deps.occupancy),
    ),
    bulkhead,
    limiter,
    throttle,
    breakerState: () => breaker?.state() ?? 'closed',
    shutdown: () => breaker?.shutdown(),
  };
}

/**
 * Calls downstream through the current policy. `setPolicy` swaps in a new
 * pipeline for the next request: breaker state, bulkhead occupancy, budget and
 * throttle windows start afresh; calls already running finish under the old one.
 */
export class ResilientClient {
  readonly #deps: ResilientClientDeps;
  #policy: Policy;
  #pipeline: Pipeline;

  constructor(policy: Policy, deps: ResilientClientDeps) {
    this.#deps = deps;
    this.#policy = policy;
    this.#pipeline = buildPipeline(policy, deps);
  }

  get policy(): Policy {
    return this.#policy;
  }

  setPolicy(policy: Policy): void {
    const old = this.#pipeline;
    this.#pipeline = buildPipeline(policy, this.#deps);
    this.#policy = policy;
    old.shutdown();
    if (old.breakerState() !== 'closed') this.#deps.events.breakerTransition('closed');
  }

  call: Call = (ctx) => this.#pipeline.call(ctx);

  breakerState(): BreakerState {
    return this.#pipeline.breakerState();
  }

  bulkheadOccupancy(): { inUse: number; queued: number } {
    const bulkhead = this.#pipeline.bulkhead;
    return { inUse: bulkhead?.inUse ?? 0, queued: bulkhead?.queued ?? 0 };
  }

  /** The adaptive concurrency limit now; 0 when it is off. */
  concurrencyLimit(): number {
    return this.#pipeline.limiter?.limit ?? 0;
  }

  throttleProbability(): number {
    return this.#pipeline.throttle?.rejectProbability() ?? 0;
  }

  close(): void {
    this.#pipeline.shutdown();
  }
}
