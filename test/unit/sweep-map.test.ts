import { describe, expect, it } from 'vitest';
import {
  cellRows,
  formatSweep,
  heatmap,
  metastableBoundary,
  verdictShort,
} from '../../load/sweep/report.ts';
import { lineChart } from '../../load/report/line-chart.ts';
import { cellResult, type SweepResult } from '../../load/sweep/run-sweep.ts';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';
import type { Recovery } from '../../load/experiment/recovery.ts';
import { base, series, spikeWindow } from './sweep-fixtures.ts';

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
  function sweepOf(verdicts: Array<Recovery['verdict']>, fields = 2): SweepResult {
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
        verdict === 'did not recover'
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
    const result = sweepOf(['stable', 'recovered', 'recovered', 'did not recover']);
    expect(result.cells.map((cell) => cell.runs[0]!.verdict)).toEqual([
      'stable',
      'recovered',
      'recovered',
      'did not recover',
    ]);
    expect(result.cells[1]!.runs[0]!.recoveryMs).toBe(600);
    const svg = heatmap(result, 'unsafe');
    expect(svg.match(/<rect /g)).toHaveLength(4);
    expect(svg).toContain('>stable</text>');
    expect(svg).toContain('>0.6 s</text>');
    expect(svg).toContain('>down</text>');
    expect(svg).toContain('href="cells/c3/report.html"');
    // (1,1) is metastable; its left and lower neighbours are not.
    expect(svg.match(/class="boundary"/g)).toHaveLength(2);
    expect(formatSweep(result)).toBe(
      [
        'unsafe:',
        '  1500 │   0.6 s    down',
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
      'did not recover',
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
        verdict: 'did not recover',
        recoveryMs: null,
        counts: { 'did not recover': 2, recovered: 1 },
      }),
    ).toBe('down 2/3');
    expect(
      verdictShort({
        verdict: 'recovered',
        recoveryMs: 1200,
        counts: { stable: 1, recovered: 1, 'did not recover': 1 },
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
      'did not recover',
    );
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/class="flag"/g)).toHaveLength(1);
    expect(svg).toContain('unsafe (✕ did not recover)');
    expect(formatSweep(sweepOf(['stable', 'did not recover'], 1))).toBe(
      'unsafe:\n  load.ratePerSecond=40  stable\n  load.ratePerSecond=80  down\n',
    );
  });
});
