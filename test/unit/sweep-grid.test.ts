import { describe, expect, it } from 'vitest';
import { scenarioProblems } from '../../load/scenario/problems.ts';
import { buildSchedule, scheduleDurationMs } from '../../load/schedule/schedule.ts';
import { parseFieldArg } from '../../load/cli/sweep.ts';
import { expandGrid, parsePath, setPath } from '../../load/sweep/grid.ts';
import { defaultVerdictRule, valuesOf } from '../../load/scenario/sweep-spec.ts';
import { base } from './sweep-fixtures.ts';

describe('the spike schedule', () => {
  it('is the base rate, the spike rate for its window, and the base rate again', () => {
    const offsets = buildSchedule(base.load);
    const inWindow = (from: number, to: number) =>
      offsets.filter((o) => o >= from && o < to).length;
    expect(inWindow(0, 2000)).toBe(160);
    expect(inWindow(2000, 3000)).toBe(300);
    expect(inWindow(3000, 9000)).toBe(480);
    expect(scheduleDurationMs(base.load)).toBe(9000);
  });

  it('must end before the load does', () => {
    const problems = scenarioProblems({
      ...base,
      load: { ...base.load, spike: { at: 8000, durationMs: 1000, ratePerSecond: 300 } },
    });
    expect(problems).toEqual([
      'load.spike: ends at 9000 ms, not before the load does (durationMs 9000): there would be nothing to recover in',
    ]);
  });
});

describe('sweep fields', () => {
  it('takes values as listed, or a range with its ends', () => {
    expect(valuesOf({ path: 'a', values: [1, 'x', true] })).toEqual([1, 'x', true]);
    expect(valuesOf({ path: 'a', range: { from: 0.1, to: 0.4, steps: 4 } })).toEqual([
      0.1, 0.2, 0.3, 0.4,
    ]);
    expect(valuesOf({ path: 'a', range: { from: 500, to: 2000, steps: 4 } })).toEqual([
      500, 1000, 1500, 2000,
    ]);
  });

  it('parses --field values and ranges, and says what is wrong with one', () => {
    expect(parseFieldArg('load.ratePerSecond=40,60,80')).toEqual({
      field: { path: 'load.ratePerSecond', values: [40, 60, 80] },
    });
    expect(parseFieldArg('runs[0].policy.preset=unsafe,safe')).toEqual({
      field: { path: 'runs[0].policy.preset', values: ['unsafe', 'safe'] },
    });
    expect(parseFieldArg('load.spike.durationMs=250..2000:3')).toEqual({
      field: { path: 'load.spike.durationMs', range: { from: 250, to: 2000, steps: 3 } },
    });
    expect(parseFieldArg('load.ratePerSecond')).toEqual({
      problem: '--field: "load.ratePerSecond" is not PATH=VALUES',
    });
    expect(parseFieldArg('a=1..2:30').problem).toBe(
      '--field a: a range is from..to:steps, with 2 to 20 steps',
    );
    expect(parseFieldArg('a=1,,2').problem).toBe(
      '--field a: give 1 to 20 values, separated by commas',
    );
  });

  it('sets a field by its path in a copy, making missing objects but never a missing run', () => {
    expect(parsePath('runs[1].policy.backoff.baseMs')).toEqual([
      'runs',
      1,
      'policy',
      'backoff',
      'baseMs',
    ]);
    const changed = setPath(base, 'runs[1].policy.backoff.baseMs', 7);
    expect(changed.runs[1]).toMatchObject({ policy: { preset: 'safe', backoff: { baseMs: 7 } } });
    expect(base.runs[1]).toEqual({ name: 'safe', target: 'rpc', policy: { preset: 'safe' } });
    expect(setPath(base, 'downstream.capacityRps', 60).downstream).toEqual({ capacityRps: 60 });
    expect(() => setPath(base, 'runs[2].policy.maxRetries', 1)).toThrow(
      'runs[2].policy.maxRetries: runs has 2 elements, not 3',
    );
    expect(() => setPath(base, 'load.ratePerSecond.x', 1)).toThrow(
      'load.ratePerSecond.x: load.ratePerSecond is not an object',
    );
    expect(() => setPath(base, 'faults[0].durationMs', 1)).toThrow(
      'faults[0].durationMs: faults is not set, so it has no elements',
    );
  });

  it('checks the sweep block with the scenario: values or range, never its own fields', () => {
    const problems = scenarioProblems({
      ...base,
      sweep: {
        fields: [
          { path: 'load.ratePerSecond', values: [1], range: { from: 1, to: 2, steps: 2 } },
          { path: 'sweep.verdict.holdMs', values: [1] },
        ],
        verdict: { goodputRatio: 2 },
      },
    });
    expect(problems).toEqual(['sweep.verdict.goodputRatio: must be <= 1']);
    expect(
      scenarioProblems({
        ...base,
        sweep: {
          fields: [
            { path: 'load.ratePerSecond', values: [1], range: { from: 1, to: 2, steps: 2 } },
            { path: 'sweep.verdict.holdMs', values: [1] },
          ],
        },
      }),
    ).toEqual([
      'sweep.fields[0]: give either values or range (from, to, steps), not both',
      'sweep.fields[1].path: a sweep cannot change its own fields',
    ]);
  });
});

describe('the grid', () => {
  it('makes a cell per pair of values, the first field fastest, without thresholds or the sweep', () => {
    const { cells, problems } = expandGrid(
      { ...base, sweep: { fields: [] } },
      [
        { path: 'load.ratePerSecond', values: [40, 80, 120] },
        { path: 'load.spike.durationMs', values: [500, 1500] },
      ],
      defaultVerdictRule,
    );
    expect(problems).toEqual([]);
    expect(cells.map((cell) => cell.index)).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    const last = cells.at(-1)!;
    expect(last.scenario.load).toMatchObject({ ratePerSecond: 120, spike: { durationMs: 1500 } });
    expect(last.scenario).not.toHaveProperty('thresholds');
    expect(last.scenario).not.toHaveProperty('sweep');
    expect(last.id).toMatch(/^ratePerSecond-120_durationMs-1500-[0-9a-f]{8}$/);
    // The same cell hashes alike; another does not.
    expect(new Set(cells.map((cell) => cell.id.slice(-8))).size).toBe(6);
  });

  it('lists every problem once, with the cells it is found in', () => {
    const { cells, problems } = expandGrid(
      base,
      [
        { path: 'load.ratePerSecond', values: [-1, 80] },
        { path: 'load.spike.durationMsec', values: [500] },
      ],
      defaultVerdictRule,
    );
    expect(cells).toEqual([]);
    expect(problems).toEqual([
      'load.ratePerSecond: must be > 0 (in cell load.ratePerSecond=-1, load.spike.durationMsec=500)',
      'load.spike: unknown field "durationMsec" (in every cell)',
    ]);
  });

  it('refuses a cell whose load ends too soon after its trigger to see a recovery', () => {
    const { problems } = expandGrid(
      base,
      [{ path: 'load.spike.durationMs', values: [1000, 4000] }],
      defaultVerdictRule,
    );
    expect(problems).toEqual([
      'runs[0] (unsafe): the load ends 3000 ms after the trigger or last fault; the verdict needs 3500 ms (verdict windowMs + holdMs + settleMs) to see a recovery held (in cell load.spike.durationMs=4000)',
      'runs[1] (safe): the load ends 3000 ms after the trigger or last fault; the verdict needs 3500 ms (verdict windowMs + holdMs + settleMs) to see a recovery held (in cell load.spike.durationMs=4000)',
    ]);
  });
});

/** 100 ms buckets of `rate` answers each, `okShare(t)` of them ok. */
