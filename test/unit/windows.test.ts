import { describe, expect, it } from 'vitest';
import { AdaptiveThrottle } from '../../services/gateway/adaptive-throttle.ts';
import { WindowRetryBudget } from '../../services/gateway/retry-budget.ts';
import { SlidingWindowCounter } from '../../services/gateway/sliding-window.ts';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('SlidingWindowCounter', () => {
  it('counts what was added within the window and forgets it bucket by bucket', () => {
    const time = fakeClock();
    const counter = new SlidingWindowCounter(1000, 10, time.clock);
    counter.add(3);
    time.advance(500);
    counter.add(2);
    expect(counter.total()).toBe(5);
    time.advance(550);
    expect(counter.total()).toBe(2);
    time.advance(1000);
    expect(counter.total()).toBe(0);
  });
});

describe('WindowRetryBudget', () => {
  it('allows ratio × requests retries over the window, plus the minimum', () => {
    const time = fakeClock();
    const budget = new WindowRetryBudget(
      {
        enabled: true,
        kind: 'window',
        minRetryConcurrency: 0,
        ratio: 0.1,
        minRetriesPerSecond: 0,
        windowMs: 10_000,
      },
      time.clock,
    );
    for (let i = 0; i < 100; i += 1) budget.recordRequest();
    let granted = 0;
    for (let i = 0; i < 100; i += 1) if (budget.tryAcquireRetry()) granted += 1;
    expect(granted).toBe(10);

    const withMinimum = new WindowRetryBudget(
      {
        enabled: true,
        kind: 'window',
        minRetryConcurrency: 0,
        ratio: 0,
        minRetriesPerSecond: 2,
        windowMs: 5000,
      },
      time.clock,
    );
    granted = 0;
    for (let i = 0; i < 100; i += 1) if (withMinimum.tryAcquireRetry()) granted += 1;
    expect(granted).toBe(10);
  });

  it('refills as old retries leave the window', () => {
    const time = fakeClock();
    const budget = new WindowRetryBudget(
      {
        enabled: true,
        kind: 'window',
        minRetryConcurrency: 0,
        ratio: 0.5,
        minRetriesPerSecond: 0,
        windowMs: 1000,
      },
      time.clock,
    );
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryAcquireRetry()).toBe(true);
    expect(budget.tryAcquireRetry()).toBe(false);
    time.advance(1100);
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryAcquireRetry()).toBe(true);
  });
});

describe('AdaptiveThrottle', () => {
  it('never rejects while accepts keep up with requests / K', () => {
    const time = fakeClock();
    const throttle = new AdaptiveThrottle({ enabled: true, k: 2, windowMs: 10_000 }, time.clock);
    for (let i = 0; i < 1000; i += 1) {
      expect(throttle.shouldReject(() => 0)).toBe(false);
      if (i % 2 === 0) throttle.recordAccept();
    }
    expect(throttle.rejectProbability()).toBe(0);
  });

  it('rejects with probability (requests − K·accepts) / (requests + 1)', () => {
    const time = fakeClock();
    const throttle = new AdaptiveThrottle({ enabled: true, k: 2, windowMs: 10_000 }, time.clock);
    for (let i = 0; i < 99; i += 1) throttle.shouldReject(() => 1);
    for (let i = 0; i < 10; i += 1) throttle.recordAccept();
    expect(throttle.rejectProbability()).toBeCloseTo((99 - 20) / 100, 10);
    expect(throttle.shouldReject(() => 0.78)).toBe(true);
    expect(throttle.shouldReject(() => 0.8)).toBe(false);
  });

  it('forgets the past after the window', () => {
    const time = fakeClock();
    const throttle = new AdaptiveThrottle({ enabled: true, k: 2, windowMs: 1000 }, time.clock);
    for (let i = 0; i < 50; i += 1) throttle.shouldReject(() => 1);
    expect(throttle.rejectProbability()).toBeGreaterThan(0.9);
    time.advance(1200);
    expect(throttle.rejectProbability()).toBe(0);
  });
});
