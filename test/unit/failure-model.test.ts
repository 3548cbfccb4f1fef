import { describe, expect, it } from 'vitest';
import {
  failureProbability,
  loadFactor,
  defaultFailureModel as model,
  sampleOutcome,
} from '../../services/downstream/failure-model.ts';
import { createRng } from '../../services/shared/rng.ts';

describe('loadFactor', () => {
  it('is in-flight requests over a tenth of a second of capacity, floored at 0.5', () => {
    expect(loadFactor(0, 250)).toBe(0.5);
    expect(loadFactor(10, 250)).toBe(0.5);
    expect(loadFactor(25, 250)).toBe(1);
    expect(loadFactor(50, 250)).toBe(2);
    expect(loadFactor(125, 250)).toBe(5);
  });
});

describe('sampleOutcome', () => {
  const samples = 20_000;
  // [load factor, expected failure probability, expected added latency]
  const cases: Array<[number, number, number]> = [
    [0.5, 0.05, 0],
    [1, 0.05, 0],
    [2, 0.45, 50],
    [5, 0.95, 200],
  ];

  it.each(cases)(
    'at load factor %d fails with probability %d and adds %d ms',
    (factor, probability, addedMs) => {
      expect(failureProbability(factor, model)).toBeCloseTo(probability, 10);
      const rng = createRng(42);
      let failures = 0;
      let latencySum = 0;
      for (let i = 0; i < samples; i += 1) {
        const outcome = sampleOutcome(factor, model, rng);
        expect(outcome.latencyMs).toBeGreaterThanOrEqual(model.baseLatencyMs + addedMs);
        expect(outcome.latencyMs).toBeLessThan(model.baseLatencyMs + model.jitterMs + addedMs);
        if (outcome.fail) failures += 1;
        latencySum += outcome.latencyMs;
      }
      // Binomial: the observed rate stays within 5 standard deviations of p.
      const sigma = Math.sqrt((probability * (1 - probability)) / samples);
      expect(Math.abs(failures / samples - probability)).toBeLessThan(5 * sigma);
      // Uniform jitter: the mean is base + jitter/2 + overload, within 2 %.
      const expectedMean = model.baseLatencyMs + model.jitterMs / 2 + addedMs;
      expect(latencySum / samples).toBeCloseTo(expectedMean, 0);
      expect(Math.abs(latencySum / samples - expectedMean) / expectedMean).toBeLessThan(0.02);
    },
  );

  it('caps the failure probability at maxFailProbability', () => {
    expect(failureProbability(100, model)).toBe(0.95);
    expect(failureProbability(100, { ...model, maxFailProbability: 0.5 })).toBe(0.5);
  });

  it('is reproducible for a seed', () => {
    const first = createRng(7);
    const second = createRng(7);
    for (let i = 0; i < 100; i += 1) {
      expect(sampleOutcome(2, model, first)).toEqual(sampleOutcome(2, model, second));
    }
  });
});
