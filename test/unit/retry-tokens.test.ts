import { describe, expect, it } from 'vitest';
import type { Call } from '../../services/gateway/call.ts';
import { recordingEvents } from '../support/policy-events.ts';
import { presets } from '../../services/gateway/policy.ts';
import { GatewayError } from '../../services/gateway/errors.ts';
import { retryLayer } from '../../services/gateway/layers/retry.ts';
import {
  ConcurrentRetryBudget,
  FailureRatioRetryBudget,
} from '../../services/gateway/retry-budget.ts';
import { RetryTokens } from '../../services/gateway/retry-tokens.ts';

const grpc = presets.grpc.retryTokens;
const aws = presets['aws-sdk-standard'].retryTokens;
const aws2026 = presets['aws-sdk-2026'].retryTokens;

describe('RetryTokens: token-bucket retry throttling', () => {
  it('gRPC A6: a failure takes 1, a success gives tokenRatio back, no retry at or below half of maxTokens', () => {
    const bucket = new RetryTokens(grpc);
    expect(bucket.tokens).toBe(10);
    for (let i = 0; i < 4; i += 1) bucket.failed();
    expect(bucket.tokens).toBe(6);
    expect(bucket.tryRetry('other')).toBe(0);
    bucket.failed();
    expect(bucket.tokens).toBe(5);
    expect(bucket.tryRetry('other'), '5 ≤ 10/2: retries stop').toBeUndefined();
    bucket.succeeded(undefined);
    expect(bucket.tokens).toBeCloseTo(5.1);
    expect(bucket.tryRetry('timeout')).toBe(0);
    for (let i = 0; i < 100; i += 1) bucket.succeeded(0);
    expect(bucket.tokens, 'never above maxTokens').toBe(10);
    for (let i = 0; i < 20; i += 1) bucket.failed();
    expect(bucket.tokens, 'never below 0').toBe(0);
  });

  it('AWS standard: a retry costs 5, 10 after a timeout; a success refunds its retry, else gives 1', () => {
    const bucket = new RetryTokens(aws);
    expect(bucket.tokens).toBe(500);
    expect(bucket.tryRetry('other')).toBe(5);
    expect(bucket.tryRetry('timeout')).toBe(10);
    expect(bucket.tokens).toBe(485);
    bucket.succeeded(10);
    expect(bucket.tokens).toBe(495);
    bucket.succeeded(undefined);
    expect(bucket.tokens).toBe(496);
    bucket.failed();
    expect(bucket.tokens, 'a failure alone costs nothing').toBe(496);
    let retries = 0;
    while (bucket.tryRetry('other') !== undefined) retries += 1;
    expect(retries, 'the quota empties after 496 / 5 retries').toBe(99);
  });

  it('AWS 2026: a retry costs 14, as does one after a timeout; throttling 5', () => {
    const bucket = new RetryTokens(aws2026);
    expect([
      bucket.tryRetry('other'),
      bucket.tryRetry('timeout'),
      bucket.tryRetry('overload'),
    ]).toEqual([14, 14, 5]);
    let retries = 0;
    while (bucket.tryRetry('other') !== undefined) retries += 1;
    expect(retries).toBe(Math.floor((500 - 33) / 14));
  });
});

describe('ConcurrentRetryBudget (Envoy)', () => {
  it('allows max(minRetryConcurrency, ratio × requests in flight) retries in flight', () => {
    const budget = new ConcurrentRetryBudget({ ...presets.envoy.retryBudget });
    for (let i = 0; i < 50; i += 1) budget.recordRequest();
    let granted = 0;
    while (budget.tryAcquireRetry()) granted += 1;
    expect(granted).toBe(10);
    budget.retryDone();
    expect(budget.tryAcquireRetry(), 'a retry that ended frees its place').toBe(true);
    for (let i = 0; i < 50; i += 1) budget.requestDone();
    for (let i = 0; i < 10; i += 1) budget.retryDone();
    granted = 0;
    while (budget.tryAcquireRetry()) granted += 1;
    expect(granted, 'an idle client still has its minimum').toBe(3);
  });
});

describe('the retry layer with a token bucket', () => {
  const failing: Call = async () => {
    throw new GatewayError('downstream_error', 'no');
  };

  it('stops retrying when the bucket says so, and counts the denial as tokens', async () => {
    const { events, seen } = recordingEvents();
    const tokens = new RetryTokens({ ...aws, maxTokens: 12 });
    const call = retryLayer({
      maxRetries: 5,
      backoff: { kind: 'none', baseMs: 0, capMs: 0, jitter: 'none' },
      rng: Math.random,
      events,
      tokens,
      isCircuitOpen: () => false,
    })(failing);
    const state = { attempts: 0 };
    await expect(call({ id: 'x', state })).rejects.toMatchObject({ kind: 'downstream_error' });
    expect(seen).toEqual(['retry', 'retry', 'denied:tokens']);
    expect(state.attempts).toBe(3);
    expect(tokens.tokens).toBe(2);
  });

  it('refunds the last retry when the request then succeeds', async () => {
    const tokens = new RetryTokens(aws);
    let calls = 0;
    const flaky: Call = async () => {
      calls += 1;
      if (calls === 1) throw new GatewayError('timeout', 'slow');
      return { statusCode: 200 };
    };
    const call = retryLayer({
      maxRetries: 2,
      backoff: { kind: 'none', baseMs: 0, capMs: 0, jitter: 'none' },
      rng: Math.random,
      events: recordingEvents().events,
      tokens,
      isCircuitOpen: () => false,
    })(flaky);
    await call({ id: 'x', state: { attempts: 0 } });
    expect(tokens.tokens).toBe(500);
  });
});

describe('FailureRatioRetryBudget (Brooker 2022: a breaker on retries)', () => {
  it('stops retries while more than ratio of the attempts in the window failed, and lets them again as it heals', () => {
    let now = 0;
    const budget = new FailureRatioRetryBudget(
      {
        ...presets.safe.retryBudget,
        enabled: true,
        kind: 'failure-ratio',
        ratio: 0.1,
        windowMs: 1000,
      },
      () => now,
    );
    expect(budget.tryAcquireRetry(), 'nothing seen: retry').toBe(true);
    for (let i = 0; i < 9; i += 1) budget.recordAttempt(false);
    budget.recordAttempt(true);
    expect(budget.tryAcquireRetry(), '1 of 10 failed: not above 10 %').toBe(true);
    budget.recordAttempt(true);
    expect(budget.tryAcquireRetry(), '2 of 11 failed').toBe(false);
    now = 1500;
    for (let i = 0; i < 5; i += 1) budget.recordAttempt(false);
    expect(budget.tryAcquireRetry(), 'the failures left the window').toBe(true);
  });
});
