import { describe, expect, it } from 'vitest';
import {
  type BackoffPolicy,
  backoffCeilingMs,
  backoffDelayMs,
} from '../../services/shared/backoff.ts';
import { createRng } from '../../services/shared/rng.ts';

const exponential: BackoffPolicy = { kind: 'exponential', baseMs: 20, capMs: 400, jitter: 'none' };

describe('backoffCeilingMs', () => {
  it('doubles from base for each retry and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffCeilingMs(retry, exponential))).toEqual([
      20, 40, 80, 160, 320, 400, 400,
    ]);
  });

  it('is base (capped) for fixed and zero for none', () => {
    expect(backoffCeilingMs(5, { ...exponential, kind: 'fixed' })).toBe(20);
    expect(backoffCeilingMs(5, { ...exponential, kind: 'fixed', capMs: 10 })).toBe(10);
    expect(backoffCeilingMs(5, { ...exponential, kind: 'none' })).toBe(0);
  });
});

describe('backoffDelayMs', () => {
  const rng = createRng(3);
  const draws = 5000;

  it('without jitter is exactly the ceiling', () => {
    for (let retry = 1; retry <= 7; retry += 1) {
      expect(backoffDelayMs(retry, exponential, rng)).toBe(backoffCeilingMs(retry, exponential));
    }
  });

  it('with full jitter is uniform in [0, ceiling): bounded, mean near ceiling/2', () => {
    const policy = { ...exponential, jitter: 'full' } as const;
    for (let retry = 1; retry <= 6; retry += 1) {
      const ceiling = backoffCeilingMs(retry, policy);
      let sum = 0;
      for (let i = 0; i < draws; i += 1) {
        const delay = backoffDelayMs(retry, policy, rng);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
        sum += delay;
      }
      expect(Math.abs(sum / draws / (ceiling / 2) - 1)).toBeLessThan(0.05);
    }
  });

  it('with equal jitter stays in [ceiling/2, ceiling)', () => {
    const policy = { ...exponential, jitter: 'equal' } as const;
    for (let retry = 1; retry <= 6; retry += 1) {
      const ceiling = backoffCeilingMs(retry, policy);
      for (let i = 0; i < draws; i += 1) {
        const delay = backoffDelayMs(retry, policy, rng);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });

  it('with decorrelated jitter stays in [base, min(cap, 3 × previous)] and grows on average', () => {
    const policy = { ...exponential, jitter: 'decorrelated' } as const;
    const meanAt = new Array<number>(6).fill(0);
    for (let run = 0; run < draws; run += 1) {
      let previous: number | undefined;
      for (let retry = 1; retry <= 6; retry += 1) {
        const delay = backoffDelayMs(retry, policy, rng, previous);
        const upper = Math.min(policy.capMs, 3 * (previous ?? policy.baseMs));
        expect(delay).toBeGreaterThanOrEqual(policy.baseMs);
        expect(delay).toBeLessThanOrEqual(upper);
        meanAt[retry - 1] = (meanAt[retry - 1] ?? 0) + delay / draws;
        previous = delay;
      }
    }
    for (let i = 1; i < meanAt.length; i += 1)
      expect(meanAt[i]).toBeGreaterThan(meanAt[i - 1] ?? 0);
    expect(meanAt.at(-1)).toBeLessThanOrEqual(policy.capMs);
  });

  it('is zero for kind none whatever the jitter', () => {
    for (const jitter of ['none', 'full', 'equal', 'decorrelated'] as const) {
      expect(backoffDelayMs(3, { ...exponential, kind: 'none', jitter }, rng, 100)).toBe(0);
    }
  });
});
