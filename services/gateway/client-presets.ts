import type { Policy } from './policy-schema.ts';

export const clientPresetNames = [
  'aws-sdk-standard',
  'aws-sdk-2026',
  'grpc',
  'envoy',
  'finagle',
  'polly',
  'resilience4j',
] as const;
export type ClientPresetName = (typeof clientPresetNames)[number];

/** A minute stands for "no timeout": clients without a default deadline wait that long here. */
export const noTimeoutMs = 60_000;

const off = { enabled: false } as const;

/**
 * Policies named after real clients, each with the defaults its own documentation gives
 * (docs/resilience.md › Client presets has the table and a link to each source; a test
 * holds this file to it). What a client does not have is off; what our policy cannot
 * express is the nearest setting, and the table says so.
 */
export function clientPresets(safe: Policy): Record<ClientPresetName, Policy> {
  const bare: Policy = {
    ...safe,
    retryOnOverload: true,
    breaker: { ...safe.breaker, ...off },
    bulkhead: { ...safe.bulkhead, ...off },
    adaptiveConcurrency: { ...safe.adaptiveConcurrency, ...off },
    retryBudget: { ...safe.retryBudget, ...off },
    retryTokens: { ...safe.retryTokens, ...off },
    throttling: { ...safe.throttling, ...off },
  };
  const awsTokens = {
    enabled: true,
    maxTokens: 500,
    failureCost: 0,
    successTokens: 1,
    refundOnSuccess: true,
    retryThreshold: 0,
  };
  return {
    // Smithy / AWS SDKs standard mode: 3 attempts, b·2^i with b uniform in [0, 1) s, ≤ 20 s.
    'aws-sdk-standard': {
      ...bare,
      perAttemptTimeoutMs: noTimeoutMs,
      maxRetries: 2,
      backoff: { kind: 'exponential', baseMs: 1000, capMs: 20_000, jitter: 'full' },
      retryTokens: {
        ...awsTokens,
        retryCost: 5,
        timeoutRetryCost: 10,
        overloadRetryCost: 5,
      },
    },
    // The 2026 behaviour: a retry costs 14, throttling 5, timeouts as any; base 50 ms.
    'aws-sdk-2026': {
      ...bare,
      perAttemptTimeoutMs: noTimeoutMs,
      maxRetries: 2,
      backoff: { kind: 'exponential', baseMs: 50, capMs: 20_000, jitter: 'full' },
      retryTokens: {
        ...awsTokens,
        retryCost: 14,
        timeoutRetryCost: 14,
        overloadRetryCost: 5,
      },
    },
    // gRPC A6's example service config: 4 attempts, 0.1 s → 1 s ×2 fully jittered, maxTokens 10, tokenRatio 0.1.
    grpc: {
      ...bare,
      perAttemptTimeoutMs: noTimeoutMs,
      maxRetries: 3,
      backoff: { kind: 'exponential', baseMs: 100, capMs: 1000, jitter: 'full' },
      retryTokens: {
        enabled: true,
        maxTokens: 10,
        retryCost: 0,
        timeoutRetryCost: 0,
        overloadRetryCost: 0,
        failureCost: 1,
        successTokens: 0.1,
        refundOnSuccess: false,
        retryThreshold: 0.5,
      },
    },
    // Envoy's route retry policy and cluster: 1 retry, 25 ms → 250 ms fully jittered, a 20 %
    // concurrent retry budget (min 3), 15 s route timeout, circuit breakers 1024/1024.
    envoy: {
      ...bare,
      perAttemptTimeoutMs: 15_000,
      maxRetries: 1,
      backoff: { kind: 'exponential', baseMs: 25, capMs: 250, jitter: 'full' },
      bulkhead: { enabled: true, maxConcurrent: 1024, maxQueue: 1024 },
      retryBudget: {
        ...safe.retryBudget,
        enabled: true,
        kind: 'concurrent',
        ratio: 0.2,
        minRetryConcurrency: 3,
      },
    },
    // Finagle: the default RetryBudget (20 %, 10/s, 10 s), requeued at once; failure accrual
    // marks a host dead after 5 consecutive failures (here: 5 of 5 calls), from 5 s.
    finagle: {
      ...bare,
      perAttemptTimeoutMs: noTimeoutMs,
      maxRetries: 3,
      backoff: { kind: 'none', baseMs: 0, capMs: 0, jitter: 'none' },
      breaker: {
        enabled: true,
        windowSize: 5,
        failureThreshold: 5,
        openMs: 5000,
        rollingWindowMs: 10_000,
      },
      retryBudget: {
        ...safe.retryBudget,
        enabled: true,
        kind: 'window',
        ratio: 0.2,
        minRetriesPerSecond: 10,
        windowMs: 10_000,
      },
    },
    // Polly v8: retry 3 × 2 s constant, no jitter; breaker 10 % of ≥ 100 calls in 30 s, 5 s open; timeout 30 s.
    polly: {
      ...bare,
      perAttemptTimeoutMs: 30_000,
      maxRetries: 3,
      backoff: { kind: 'fixed', baseMs: 2000, capMs: 2000, jitter: 'none' },
      breaker: {
        enabled: true,
        windowSize: 100,
        failureThreshold: 10,
        openMs: 5000,
        rollingWindowMs: 30_000,
      },
    },
    // Resilience4j: retry 3 attempts 500 ms apart; breaker 50 % of 100 calls, 60 s open;
    // bulkhead 25, no wait; TimeLimiter 1 s.
    resilience4j: {
      ...bare,
      perAttemptTimeoutMs: 1000,
      maxRetries: 2,
      backoff: { kind: 'fixed', baseMs: 500, capMs: 500, jitter: 'none' },
      breaker: {
        enabled: true,
        windowSize: 100,
        failureThreshold: 50,
        openMs: 60_000,
        rollingWindowMs: 60_000,
      },
      bulkhead: { enabled: true, maxConcurrent: 25, maxQueue: 0 },
    },
  };
}
