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
import { retryBudgetFor } from './retry-budget.ts';
import { RetryTokens } from './retry-tokens.ts';
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
  tokens?: RetryTokens | undefined;
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
  const budget = policy.retryBudget.enabled ? retryBudgetFor(policy.retryBudget, clock) : undefined;
  const tokens = policy.retryTokens.enabled ? new RetryTokens(policy.retryTokens) : undefined;
  const layers: Layer[] = [
    retryLayer({
      maxRetries: policy.maxRetries,
      retryOnOverload: policy.retryOnOverload,
      backoff: policy.backoff,
      rng,
      events,
      budget,
      tokens,
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
    tokens,
    breakerState: () => breaker?.state() ?? 'closed',
    shutdown: () => breaker?.shutdown(),
  };
}

const breakerRank: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
const worstOf = (states: BreakerState[]) =>
  states.reduce((a, b) => (breakerRank[b] > breakerRank[a] ? b : a), 'closed');

/**
 * The policy's `clients` instances, each with its own state (breaker, bulkhead, budget,
 * token bucket, throttle), as N instances of a client would have; requests go to them in
 * turn. The breaker the metrics see is the worst instance's.
 */
function buildInstances(policy: Policy, deps: ResilientClientDeps): Pipeline[] {
  const states: BreakerState[] = Array.from({ length: policy.clients }, () => 'closed');
  let shown: BreakerState = 'closed';
  return states.map((_, index) => {
    const events: PolicyEvents =
      policy.clients === 1
        ? deps.events
        : {
            ...deps.events,
            breakerTransition: (to) => {
              states[index] = to;
              const worst = worstOf(states);
              if (worst !== shown) deps.events.breakerTransition((shown = worst));
            },
          };
    return buildPipeline(policy, { ...deps, events });
  });
}

/**
 * Calls downstream through the current policy. `setPolicy` swaps in new pipelines for the
 * next request: breaker state, bulkhead occupancy, budget, bucket and throttle windows
 * start afresh; calls already running finish under the old ones.
 */
export class ResilientClient {
  readonly #deps: ResilientClientDeps;
  #policy: Policy;
  #instances: Pipeline[];
  #next = 0;

  constructor(policy: Policy, deps: ResilientClientDeps) {
    this.#deps = deps;
    this.#policy = policy;
    this.#instances = buildInstances(policy, deps);
  }

  get policy(): Policy {
    return this.#policy;
  }

  setPolicy(policy: Policy): void {
    const old = this.#instances;
    const wasClosed = this.breakerState() === 'closed';
    this.#instances = buildInstances(policy, this.#deps);
    this.#policy = policy;
    this.#next = 0;
    for (const instance of old) instance.shutdown();
    if (!wasClosed) this.#deps.events.breakerTransition('closed');
  }

  call: Call = (ctx) => {
    const instances = this.#instances;
    const instance = instances[this.#next % instances.length]!;
    this.#next = (this.#next + 1) % instances.length;
    return instance.call(ctx);
  };

  /** The worst instance's breaker state. */
  breakerState(): BreakerState {
    return worstOf(this.#instances.map((instance) => instance.breakerState()));
  }

  /** Summed over the instances. */
  bulkheadOccupancy(): { inUse: number; queued: number } {
    return {
      inUse: this.#total((i) => i.bulkhead?.inUse ?? 0),
      queued: this.#total((i) => i.bulkhead?.queued ?? 0),
    };
  }

  /** The adaptive concurrency limit now, summed over the instances; 0 when it is off. */
  concurrencyLimit(): number {
    return this.#total((i) => i.limiter?.limit ?? 0);
  }

  /** The instances' mean rejection probability. */
  throttleProbability(): number {
    return this.#total((i) => i.throttle?.rejectProbability() ?? 0) / this.#instances.length;
  }

  /** Tokens in the retry token buckets, summed over the instances; 0 when off. */
  retryTokens(): number {
    return this.#total((i) => i.tokens?.tokens ?? 0);
  }

  #total(read: (instance: Pipeline) => number): number {
    let total = 0;
    for (const instance of this.#instances) total += read(instance);
    return total;
  }

  close(): void {
    for (const instance of this.#instances) instance.shutdown();
  }
}
