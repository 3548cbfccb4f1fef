import { describe, expect, it } from 'vitest';
import { combineRepeats, compareRuns } from '../../load/experiment/repeats.ts';
import { differenceInterval, directionOf, interval } from '../../load/experiment/intervals.ts';
import type { RpcRunSummary } from '../../load/experiment/result.ts';
import { evaluateThresholds } from '../../load/experiment/thresholds.ts';
import { createRng } from '../../services/shared/rng.ts';
import { rpcSummary } from '../support/summaries.ts';
import type { Recovery } from '../../load/experiment/recovery.ts';

const run = (name: string, overrides: Partial<RpcRunSummary> = {}): RpcRunSummary =>
  rpcSummary(name, {
    cbOpen: 0,
    retries: 20,
    attempts: 120,
    amplification: 1.2,
    goodputRps: 50,
    ...overrides,
  });
const repeated = (name: string, field: keyof RpcRunSummary, values: number[]) =>
  combineRepeats(
    values.map((value) => run(name, { [field]: value })),
    7,
  );

const recovered = (recoveryMs: number | null): Recovery => ({
  verdict: 'recovered',
  recoveryMs,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
});

describe('interval', () => {
  it('is the min–max below 5 values, and says so', () => {
    expect(interval([3, 1, 2], createRng(1))).toEqual({ interval: [1, 3], method: 'min–max' });
  });

  it('is a seeded bootstrap percentile interval of the median from 5 values: the same seed, the same interval', () => {
    const values = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
    const a = interval(values, createRng(42));
    expect(a).toEqual(interval(values, createRng(42)));
    expect(a.method).toBe('bootstrap 95 %');
    const [low, high] = a.interval;
    expect(low).toBeGreaterThanOrEqual(10);
    expect(high).toBeLessThanOrEqual(19);
    expect(low).toBeLessThan(14.5);
    expect(high).toBeGreaterThan(14.5);
    // Narrower than the range: it is the median's interval, not the data's.
    expect(high - low).toBeLessThan(9);
  });

  it('covers the true median about 95 % of the time', () => {
    const rng = createRng(3);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t += 1) {
      // Uniform on [0, 100): the median is 50.
      const sample = Array.from({ length: 15 }, () => rng() * 100);
      const [low, high] = interval(sample, rng).interval;
      if (low <= 50 && 50 <= high) covered += 1;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThanOrEqual(1);
  });
});

describe('differenceInterval', () => {
  it('finds a clear difference significant and a null difference not', () => {
    const rng = createRng(5);
    const clear = differenceInterval([10, 11, 12, 11, 10], [20, 21, 19, 20, 22], rng);
    expect(clear.difference).toBe(-9);
    expect(clear.interval[1]).toBeLessThan(0);
    const same = differenceInterval([10, 12, 11, 13, 9], [11, 10, 12, 9, 13], rng);
    expect(same.interval[0]).toBeLessThanOrEqual(0);
    expect(same.interval[1]).toBeGreaterThanOrEqual(0);
  });

  it('calls a difference between two alike runs significant at most about 5 % of the time, whatever the repeats', () => {
    const rng = createRng(9);
    // Sum of 12 uniforms: near-normal noise, the same for both runs.
    const noise = () => Array.from({ length: 12 }, rng).reduce((sum, u) => sum + u, 0);
    for (const repeats of [2, 3, 4, 5, 7, 10]) {
      let significant = 0;
      const trials = 400;
      for (let t = 0; t < trials; t += 1) {
        const a = Array.from({ length: repeats }, noise);
        const b = Array.from({ length: repeats }, noise);
        if (['above 0', 'below 0'].includes(directionOf(differenceInterval(a, b, rng))))
          significant += 1;
      }
      // A paired min–max would call 50 % of these significant with 2 repeats, 25 % with 3.
      expect(significant / trials, `${repeats} repeats`).toBeLessThanOrEqual(0.075);
    }
  });

  it('has no test below 5 repeats, however clear the repeats look', () => {
    const result = differenceInterval([50, 51, 52, 53], [1, 2, 3, 4], createRng(1));
    expect(result.interval).toEqual([49, 49]);
    expect(directionOf(result)).toBe('too few repeats');
  });

  it('pairs repeats below 5 and has no interval with one', () => {
    expect(differenceInterval([5, 7], [1, 2], createRng(1))).toEqual({
      difference: 4.5,
      interval: [4, 5],
      method: 'min–max',
    });
    expect(differenceInterval([5], [1], createRng(1)).method).toBe('none');
  });
});

describe('combineRepeats', () => {
  it('reports medians with intervals and keeps every repeat', () => {
    const combined = combineRepeats(
      [1, 2, 3, 4, 5].map((i) =>
        run('a', { retries: 10 * i, goodputRps: 40 + i, warnings: i === 2 ? ['late'] : [] }),
      ),
      1,
    );
    expect(combined.retries).toBe(30);
    expect(combined.goodputRps).toBe(43);
    expect(combined.repeats).toHaveLength(5);
    expect(combined.intervalMethod).toBe('bootstrap 95 %');
    expect(combined.intervals!.retries![0]).toBeLessThanOrEqual(30);
    expect(combined.intervals!.retries![1]).toBeGreaterThanOrEqual(30);
    expect(combined.warnings).toEqual(['repeat 2: late']);
  });

  it('words a warning once with the repeats it came from, whatever its figures', () => {
    const combined = combineRepeats(
      [7.5, 0, 26].map((lateMs) =>
        run('a', { warnings: lateMs ? [`sent late (p99 ${lateMs} ms)`, 'cap hit'] : [] }),
      ),
    );
    expect(combined.warnings).toEqual([
      '2 of 3 repeats, e.g. repeat 1: sent late (p99 7.5 ms)',
      '2 of 3 repeats, e.g. repeat 1: cap hit',
    ]);
  });

  it('calls a run host-shaped when most repeats were, and a recovery by the majority', () => {
    const combined = combineRepeats([
      run('a', { hostShaped: true, suggestedTimeScale: 4, recovery: recovered(100) }),
      run('a', {
        hostShaped: true,
        suggestedTimeScale: 8,
        recovery: { ...recovered(null), verdict: 'did not recover' },
      }),
      run('a', { hostShaped: false, recovery: recovered(300) }),
    ]);
    expect(combined.hostShaped).toBe(true);
    expect(combined.suggestedTimeScale).toBe(8);
    expect(combined.recovery).toMatchObject({ verdict: 'recovered', recoveryMs: 200 });
  });

  it('leaves a single run as it is', () => {
    const single = run('a');
    expect(combineRepeats([single])).toBe(single);
  });
});

describe('compareRuns', () => {
  it('gives each pair of same-target runs a verdict per figure, in the figure’s good direction', () => {
    const safe = repeated('safe', 'amplification', [1.1, 1.2, 1.15, 1.12, 1.18]);
    const unsafe = repeated('unsafe', 'amplification', [3.8, 3.9, 4.0, 3.85, 3.95]);
    const amplification = compareRuns([safe, unsafe], 1).find((c) => c.field === 'amplification')!;
    expect(amplification).toMatchObject({ a: 'safe', b: 'unsafe', verdict: 'better' });
    expect(amplification.interval[1]).toBeLessThan(0);
    // goodput is the same in both: no detectable difference.
    expect(compareRuns([safe, unsafe], 1).find((c) => c.field === 'goodputRps')!.verdict).toBe(
      'no detectable difference',
    );
  });

  it('gives no verdict below 5 repeats', () => {
    const safe = repeated('safe', 'amplification', [1.1, 1.2, 1.15]);
    const unsafe = repeated('unsafe', 'amplification', [3.8, 3.9, 4.0]);
    const verdicts = compareRuns([safe, unsafe], 1).map((c) => c.verdict);
    expect(new Set(verdicts)).toEqual(new Set(['too few repeats']));
  });

  it('does not compare runs of different targets', () => {
    const events = { ...run('e'), target: 'events' } as unknown as RpcRunSummary;
    expect(compareRuns([run('a'), events])).toEqual([]);
  });
});

describe('thresholds that compare two runs', () => {
  const fast = repeated('fast', 'goodputRps', [100, 101, 99, 102, 100]);
  const slow = repeated('slow', 'goodputRps', [80, 82, 79, 81, 80]);
  const alike = repeated('alike', 'goodputRps', [100, 99, 101, 100, 102]);

  it('pass only when the difference is significant in the stated direction', () => {
    const results = evaluateThresholds(
      [
        'fast.goodput_rps > slow.goodput_rps',
        'slow.goodput_rps > fast.goodput_rps',
        'fast.goodput_rps > alike.goodput_rps',
        'fast.goodput_rps == alike.goodput_rps',
        'slow.goodput_rps < fast.goodput_rps',
      ],
      [fast, slow, alike],
    );
    expect(results.map((r) => r.passed)).toEqual([true, false, false, true, true]);
    expect(results[0]!.value).toBe(20);
    expect(results[0]!.interval![0]).toBeGreaterThan(0);
  });

  it('fail below 5 repeats, however clear the difference', () => {
    const three = (name: string, values: number[]) =>
      combineRepeats(values.map((goodputRps) => run(name, { goodputRps })));
    const [result] = evaluateThresholds(
      ['a.goodput_rps > b.goodput_rps'],
      [three('a', [100, 101, 102]), three('b', [10, 11, 12])],
    );
    expect(result).toMatchObject({ value: 90, passed: false, interval: [90, 90] });
  });

  it('fail with one repeat: one run each cannot show a difference', () => {
    const [result] = evaluateThresholds(
      ['a.goodput_rps > b.goodput_rps'],
      [run('a', { goodputRps: 100 }), run('b', { goodputRps: 10 })],
    );
    expect(result).toMatchObject({ value: 90, passed: false });
  });
});
