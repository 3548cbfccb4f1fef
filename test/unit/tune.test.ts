import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../load/cli/tune.ts';
import { parseScenario, ScenarioError } from '../../load/scenario/scenario.ts';
import { dominates, fronts, knee, rank } from '../../load/tune/pareto.ts';
import { candidatesOf, givenId, runOf } from '../../load/tune/space.ts';
import { keepOf, plannedRuns } from '../../load/tune/search.ts';

const point = (id: string, goodput: number, p99: number, amplification: number) => ({
  id,
  objectives: { goodput, p99, amplification },
});
const all = ['goodput', 'p99', 'amplification'] as const;

describe('the Pareto front', () => {
  it('dominates: at least as good on every objective and better on one, each in its direction', () => {
    expect(dominates(point('a', 10, 100, 1), point('b', 9, 100, 1), all)).toBe(true);
    expect(dominates(point('a', 10, 100, 1), point('b', 10, 100, 1), all)).toBe(false);
    // More goodput but a longer tail: neither wins.
    expect(dominates(point('a', 10, 120, 1), point('b', 9, 100, 1), all)).toBe(false);
    expect(dominates(point('a', 9, 100, 1.2), point('b', 9, 100, 1), all)).toBe(false);
    expect(dominates(point('b', 9, 100, 1), point('a', 9, 100, 1.2), all)).toBe(true);
    // Only the objectives asked for count.
    expect(dominates(point('a', 10, 120, 1), point('b', 9, 100, 1), ['goodput'])).toBe(true);
  });

  it('sorts into fronts, and ranks within one by distance to the ideal', () => {
    const points = [
      point('cheap', 80, 100, 1.0),
      point('fast', 95, 90, 1.6),
      point('middle', 92, 95, 1.2),
      point('worse', 79, 110, 1.3),
    ];
    const levels = fronts(points, all);
    expect(levels.map((level) => level.map((p) => p.id).sort())).toEqual([
      ['cheap', 'fast', 'middle'],
      ['worse'],
    ]);
    expect(rank(points, all).at(-1)!.id).toBe('worse');
    // The knee: not best on anything, nearest the ideal once each objective is scaled.
    const { best, runnerUp } = knee(levels[0]!, all);
    expect(best.id).toBe('middle');
    expect(runnerUp).toBeDefined();
  });
});

describe('the candidates', () => {
  it('is the policy as given, then the whole grid when it fits', () => {
    const candidates = candidatesOf(
      [
        { path: 'policy.maxRetries', values: [0, 1, 3] },
        { path: 'policy.preset', values: ['safe', 'grpc'] },
      ],
      12,
      1,
    );
    expect(candidates[0]).toEqual({ id: givenId, values: {} });
    expect(candidates).toHaveLength(7);
    expect(new Set(candidates.map((c) => JSON.stringify(c.values))).size).toBe(7);
  });

  it('draws distinct seeded candidates from ranges: the same seed, the same candidates', () => {
    const fields = [
      { path: 'policy.perAttemptTimeoutMs', range: { from: 40, to: 400, integer: true } },
      { path: 'policy.maxRetries', values: [0, 1, 2, 3, 4, 5] },
    ];
    const a = candidatesOf(fields, 10, 7);
    expect(a).toHaveLength(10);
    expect(candidatesOf(fields, 10, 7)).toEqual(a);
    expect(candidatesOf(fields, 10, 8)).not.toEqual(a);
    for (const c of a.slice(1)) {
      const timeout = c.values['policy.perAttemptTimeoutMs'] as number;
      expect(Number.isInteger(timeout) && timeout >= 40 && timeout <= 400).toBe(true);
    }
  });

  it('sets a candidate on the run, named after it', () => {
    const run = runOf(
      { name: 'r', target: 'rpc', policy: { preset: 'safe' } },
      { id: 'c1', values: { 'policy.maxRetries': 2, 'policy.backoff.baseMs': 30 } },
    );
    expect(run).toEqual({
      name: 'c1',
      target: 'rpc',
      policy: { preset: 'safe', maxRetries: 2, backoff: { baseMs: 30 } },
    });
  });
});

describe('the tune block and flags', () => {
  const scenario = (tune: string) => `
name: t
load: { kind: constant, ratePerSecond: 10, durationMs: 100 }
runs: [{ name: r, target: rpc }]
tune: ${tune}
`;

  it('says what is wrong with a tune block, one line each', () => {
    expect(() =>
      parseScenario(
        scenario(
          '{ run: nope, fields: [{ path: policy.maxRetries }, { path: policy.maxRetries, range: { from: 5, to: 1 } }] }',
        ),
      ),
    ).toThrow(ScenarioError);
    try {
      parseScenario(
        scenario(
          '{ run: nope, fields: [{ path: policy.maxRetries }, { path: policy.maxRetries, range: { from: 5, to: 1 } }] }',
        ),
      );
    } catch (error) {
      expect((error as ScenarioError).problems).toEqual([
        'tune.fields[0]: give either values or range (from, to), not neither',
        'tune.fields[1].range: from must be ≤ to',
        'tune.fields: policy.maxRetries is given twice',
        'tune.run: no run is named "nope"',
      ]);
    }
    expect(
      parseScenario(scenario('{ fields: [{ path: policy.maxRetries, values: [0, 3] }] }')).tune,
    ).toBeDefined();
  });

  it('plans the runs of successive halving: the best third, at least two, go on', () => {
    expect(keepOf(12)).toBe(4);
    expect(keepOf(3)).toBe(2);
    expect(keepOf(1)).toBe(1);
    // 12 × 1 + 4 × 3 + 2 × 5; 9 × 1 + 3 × 5.
    expect(plannedRuns(12, [1, 3, 5])).toBe(34);
    expect(plannedRuns(9, [1, 5])).toBe(24);
  });

  it('reads a budget', () => {
    expect(parseDuration('20m')).toBe(1_200_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('5')).toBe(300_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('0m')).toBeUndefined();
  });
});
