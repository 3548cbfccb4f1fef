import { describe, expect, it } from 'vitest';
import { type Bucket } from '../../load/generator/series.ts';
import { parseScenario, scenarioProblems } from '../../load/scenario/scenario.ts';
import { buildSchedule, scheduleDurationMs } from '../../load/schedule/schedule.ts';
import { parseFieldArg, runSweepCommand } from '../../load/cli/sweep.ts';
import { expandGrid, parsePath, setPath } from '../../load/sweep/grid.ts';
import {
  cellRows,
  formatSweep,
  heatmap,
  lineChart,
  metastableBoundary,
  verdictShort,
} from '../../load/sweep/report.ts';
import { cellResult, type SweepResult } from '../../load/sweep/run-sweep.ts';
import { defaultVerdictRule, valuesOf } from '../../load/scenario/sweep-spec.ts';
import { cellVerdict, type RepeatVerdict, repeatVerdict } from '../../load/sweep/verdict.ts';

const base = parseScenario(`
name: map
seed: 1
load:
  kind: spike
  ratePerSecond: 80
  durationMs: 9000
  spike: { at: 2000, durationMs: 1000, ratePerSecond: 300 }
runs:
  - { name: unsafe, target: rpc, policy: { preset: unsafe } }
  - { name: safe, target: rpc, policy: { preset: safe } }
thresholds:
  - unsafe.failed < 10
`);

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
function series(durationMs: number, rate: number, okShare: (t: number) => number): Bucket[] {
  return Array.from({ length: durationMs / 100 }, (_, i) => {
    const ok = Math.round(rate * okShare(i * 100));
    return { startMs: i * 100, sent: rate, ok, failed: rate - ok, dropped: 0, p50Ms: 1, p99Ms: 1 };
  });
}
const spikeWindow = [{ startMs: 2000, endMs: 3000, kind: 'load trigger' }];
const judge = (okShare: (t: number) => number, faultWindows = spikeWindow) =>
  repeatVerdict(
    { target: 'rpc', series: series(9000, 10, okShare), faultWindows },
    defaultVerdictRule,
  );

describe('the verdict of a repeat', () => {
  it('is stable when no window fell below 90 % ok', () => {
    // One failure in ten in one bucket: the 500 ms window around it is still 98 % ok.
    expect(judge((t) => (t === 2500 ? 0.9 : 1))).toMatchObject({
      verdict: 'stable',
      lowestRatio: 0.98,
    });
  });

  it('is recovered, timed from the end of the trigger to the first window that holds for 1 s', () => {
    // Down from 2.2 s to 4.3 s: the first healthy window starts at 4.3 s, 1.3 s after the spike.
    const verdict = judge((t) => (t >= 2200 && t < 4300 ? 0 : 1));
    expect(verdict).toMatchObject({
      verdict: 'recovered',
      recoveryMs: 1300,
      lowestRatio: 0,
      ratioBefore: 1,
    });
    expect(verdict.observedMs).toBe(6000);
  });

  it('does not take one good window for a recovery: it must hold', () => {
    // Back at 3.5 s for 0.3 s, down again until 5 s.
    const verdict = judge((t) => (t >= 2200 && t < 5000 && !(t >= 3500 && t < 3800) ? 0 : 1));
    expect(verdict).toMatchObject({ verdict: 'recovered', recoveryMs: 2000 });
  });

  it('is metastable when goodput stays down after the trigger, and a late recovery cannot be seen to hold', () => {
    expect(judge((t) => (t >= 2200 ? 0.5 : 1)).verdict).toBe('metastable');
    // Back at 8.2 s: 0.8 s before the load ends, too late to hold a second.
    expect(judge((t) => (t >= 2200 && t < 8200 ? 0 : 1)).verdict).toBe('metastable');
  });

  it('counts a window with requests sent and nothing answered as 0 % ok', () => {
    const buckets = series(9000, 10, () => 1).map((bucket) =>
      bucket.startMs >= 2000 ? { ...bucket, ok: 0, failed: 0 } : bucket,
    );
    expect(
      repeatVerdict(
        { target: 'rpc', series: buckets, faultWindows: spikeWindow },
        defaultVerdictRule,
      ).verdict,
    ).toBe('metastable');
  });

  it('is overloaded when under 90 % ok before the trigger, and has no trigger to judge otherwise', () => {
    expect(judge(() => 0.8)).toMatchObject({ verdict: 'overloaded', ratioBefore: 0.8 });
    expect(judge(() => 1, []).verdict).toBe('no trigger');
    expect(
      repeatVerdict(
        { target: 'events', series: series(9000, 10, () => 1), faultWindows: spikeWindow },
        defaultVerdictRule,
      ).verdict,
    ).toBe('no trigger');
  });

  it('follows the rule it is given', () => {
    const run = {
      target: 'rpc' as const,
      series: series(9000, 10, (t) => (t >= 2200 && t < 3500 ? 0.7 : 1)),
      faultWindows: spikeWindow,
    };
    expect(repeatVerdict(run, defaultVerdictRule)).toMatchObject({
      verdict: 'recovered',
      recoveryMs: 400,
    });
    expect(repeatVerdict(run, { ...defaultVerdictRule, goodputRatio: 0.6 }).verdict).toBe('stable');
  });
});

const repeatOf = (
  verdict: RepeatVerdict['verdict'],
  recoveryMs: number | null = null,
): RepeatVerdict => ({
  verdict,
  recoveryMs,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
});

describe("a cell's verdict over its repeats", () => {
  it('is what most repeats said; with no majority, the median recovery of those that came back', () => {
    expect(
      cellVerdict([repeatOf('metastable'), repeatOf('metastable'), repeatOf('recovered', 500)]),
    ).toMatchObject({
      verdict: 'metastable',
      counts: { metastable: 2, recovered: 1 },
    });
    expect(
      cellVerdict([repeatOf('stable'), repeatOf('stable'), repeatOf('recovered', 500)]).verdict,
    ).toBe('stable');
    expect(
      cellVerdict([repeatOf('stable'), repeatOf('recovered', 800), repeatOf('metastable')]),
    ).toMatchObject({ verdict: 'recovered', recoveryMs: 400 });
    expect(cellVerdict([repeatOf('metastable'), repeatOf('recovered', 300)])).toMatchObject({
      verdict: 'recovered',
      recoveryMs: 300,
    });
    expect(cellVerdict([repeatOf('metastable'), repeatOf('overloaded')]).verdict).toBe(
      'metastable',
    );
    expect(cellVerdict([repeatOf('no trigger')]).verdict).toBe('no trigger');
  });
});

describe('the map', () => {
  it('draws the edges between metastable cells and the others, not around unknown ones', () => {
    // Columns 0..2, rows 0..1; metastable at (2,0), (1,1), (2,1); (0,1) not run.
    const meta = new Map([
      ['0,0', false],
      ['1,0', false],
      ['2,0', true],
      ['1,1', true],
      ['2,1', true],
    ]);
    const edges = metastableBoundary(3, 2, (c, r) => meta.get(`${c},${r}`));
    expect(edges).toEqual([
      [2, 0, 2, 1],
      [1, 1, 2, 1],
    ]);
  });

  /** A sweep result over rate × spike, with verdicts given per cell. */
  function sweepOf(verdicts: Array<RepeatVerdict['verdict']>, fields = 2): SweepResult {
    const rates = [40, 80];
    const spikes = [500, 1500];
    const cells = verdicts.map((verdict, n) => {
      const index = fields === 2 ? [n % 2, Math.floor(n / 2)] : [n];
      const values =
        fields === 2
          ? [
              { path: 'load.ratePerSecond', value: rates[index[0]!]! },
              { path: 'load.spike.durationMs', value: spikes[index[1]!]! },
            ]
          : [{ path: 'load.ratePerSecond', value: rates[n]! }];
      const okShare = (t: number) =>
        verdict === 'metastable'
          ? t >= 2200
            ? 0.2
            : 1
          : verdict === 'recovered'
            ? t >= 2200 && t < 3600
              ? 0
              : 1
            : 1;
      const run = {
        target: 'rpc' as const,
        series: series(9000, 10, okShare),
        faultWindows: spikeWindow,
      };
      const summary = {
        ...run,
        name: 'unsafe',
        sent: 900,
        ok: 800,
        failed: 100,
        dropped: 0,
        goodputRps: 88.9,
        amplification: 1.5,
        p99Ms: 120,
        hostOverheadP99Ms: 2,
        hostShaped: false,
        warnings: [],
      };
      return cellResult(
        { id: `c${n}`, index, values },
        { runs: [summary] } as unknown as Parameters<typeof cellResult>[1],
        defaultVerdictRule,
        { resumed: false, wallMs: 1 },
      );
    });
    return {
      scenario: base,
      fields:
        fields === 2
          ? [
              { path: 'load.ratePerSecond', values: rates },
              { path: 'load.spike.durationMs', values: spikes },
            ]
          : [{ path: 'load.ratePerSecond', values: rates }],
      rule: defaultVerdictRule,
      timeScale: 1,
      repeat: 1,
      stack: 'a fresh local stack per run',
      startedAt: '2026-12-02T00:00:00.000Z',
      environment: { node: 'v20', platform: 'linux-x64', cpus: 2 },
      runs: ['unsafe'],
      cells,
      cellCount: verdicts.length,
    };
  }

  it('colours each cell by its verdict, says it in the cell, links its report and outlines the metastable region', () => {
    const result = sweepOf(['stable', 'recovered', 'recovered', 'metastable']);
    expect(result.cells.map((cell) => cell.runs[0]!.verdict)).toEqual([
      'stable',
      'recovered',
      'recovered',
      'metastable',
    ]);
    expect(result.cells[1]!.runs[0]!.recoveryMs).toBe(600);
    const svg = heatmap(result, 'unsafe');
    expect(svg.match(/<rect /g)).toHaveLength(4);
    expect(svg).toContain('>stable</text>');
    expect(svg).toContain('>0.6 s</text>');
    expect(svg).toContain('>meta</text>');
    expect(svg).toContain('href="cells/c3/report.html"');
    // (1,1) is metastable; its left and lower neighbours are not.
    expect(svg.match(/class="boundary"/g)).toHaveLength(2);
    expect(formatSweep(result)).toBe(
      [
        'unsafe:',
        '  1500 │   0.6 s    meta',
        '   500 │  stable   0.6 s',
        '       └────────────────',
        '              40      80',
        '  rows: load.spike.durationMs; columns: load.ratePerSecond',
        '',
      ].join('\n'),
    );
    expect(cellRows(result)[4]).toEqual([
      '80',
      '1500',
      'unsafe',
      'metastable',
      '-',
      '88.9',
      '1.50',
      '120',
      '100',
      '2',
    ]);
  });

  it('marks a cell not run yet, and says when repeats disagree', () => {
    const result = sweepOf(['stable', 'recovered']);
    result.cellCount = 4;
    expect(heatmap(result, 'unsafe')).toContain('>not run</text>');
    expect(
      verdictShort({
        verdict: 'metastable',
        recoveryMs: null,
        counts: { metastable: 2, recovered: 1 },
      }),
    ).toBe('meta 2/3');
    expect(
      verdictShort({
        verdict: 'recovered',
        recoveryMs: 1200,
        counts: { stable: 1, recovered: 1, metastable: 1 },
      }),
    ).toBe('1.2 s 2/3');
  });

  it('draws lines against a single field, a cross where a run did not recover', () => {
    const svg = lineChart(
      'Recovery',
      [40, 80, 120],
      'load.ratePerSecond',
      [
        { name: 'unsafe', ys: [0, 1.5, null], flags: [false, false, true] },
        { name: 'safe', ys: [0, 0.5, 0.8] },
      ],
      'metastable',
    );
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/class="flag"/g)).toHaveLength(1);
    expect(svg).toContain('unsafe (✕ metastable)');
    expect(formatSweep(sweepOf(['stable', 'metastable'], 1))).toBe(
      'unsafe:\n  load.ratePerSecond=40  stable\n  load.ratePerSecond=80  meta\n',
    );
  });
});

describe('cascade-lab sweep, before it runs anything', () => {
  const sweep = async (file: string, options: Parameters<typeof runSweepCommand>[1]) => {
    let stderr = '';
    const code = await runSweepCommand(file, options, {
      out: () => undefined,
      err: (text) => (stderr += text),
      interactive: false,
    });
    return { code, stderr };
  };

  it('says every problem with its flags at once, and exits 2', async () => {
    const { code, stderr } = await sweep('scenarios/metastable-map.yaml', {
      fields: ['load.ratePerSecond', 'a=1', 'b=2', 'c=3'],
      timeScale: 'auto',
      repeat: '0',
    });
    expect(code).toBe(2);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'cascade-lab sweep: --repeat: must be an integer from 1 to 50 (got "0")',
      'cascade-lab sweep: --time-scale: auto would probe in every cell; give a number',
      'cascade-lab sweep: --field: "load.ratePerSecond" is not PATH=VALUES',
      'cascade-lab sweep: --field: at most two fields (a map)',
    ]);
  });

  it('refuses a scenario with nothing to sweep, and a field that makes a cell invalid', async () => {
    const none = await sweep('scenarios/metastable.yaml', {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'metastable: nothing to sweep: add sweep.fields to the scenario, or pass --field PATH=VALUES',
    );
    const bad = await sweep('scenarios/metastable-map.yaml', {
      fields: ['runs[4].policy.maxRetries=1,2'],
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'runs[4].policy.maxRetries: runs has 4 elements, not 5 (in every cell)',
    );
  });
});
