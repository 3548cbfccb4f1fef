import { describe, expect, it } from 'vitest';
import { combineRepeats, compareRuns } from '../../load/experiment/repeats.ts';
import type { ExperimentResult, RunSummary } from '../../load/experiment/result.ts';
import { evaluateThresholds } from '../../load/experiment/thresholds.ts';
import { renderHtml } from '../../load/report/html.ts';
import { repeatFigures, repeatsChart } from '../../load/report/repeats-chart.ts';
import { comparisonLines, notes, thresholdLines } from '../../load/report/summary.ts';
import { rpcSummary } from '../support/summaries.ts';

const repeatedRun = (name: string, attempts: number[]) =>
  combineRepeats(
    attempts.map((count) => rpcSummary(name, { attempts: count, amplification: count / 100 })),
    3,
  );

const experiment = (runs: RunSummary[], repeat: number, thresholds: string[] = []) =>
  ({
    scenario: { name: 'x', load: { kind: 'bursts', total: 100, burst: 100, gapMs: 0 }, runs: [] },
    timeScale: 4,
    repeat,
    startedAt: '2026-12-02T00:00:00.000Z',
    environment: { node: 'v20', platform: 'linux-x64', cpus: 2 },
    runs,
    comparisons: compareRuns(runs, 1),
    thresholds: evaluateThresholds(thresholds, runs, 1),
  }) as unknown as ExperimentResult;

describe('the repeats chart', () => {
  it('draws every repeat as a dot and every median as a tick, a row per run', () => {
    const runs = [
      repeatedRun('a', [500, 520, 540, 560, 580]),
      repeatedRun('b', [300, 310, 320, 330, 340]),
    ];
    const svg = repeatsChart(runs, repeatFigures[0]!);
    expect(svg.match(/<circle /g)).toHaveLength(10);
    expect(svg.match(/stroke-width="2.5"/g)).toHaveLength(2);
    expect(svg).toContain('>a</text>');
    expect(svg).toContain('>b</text>');
  });
});

describe('the report of a repeated experiment', () => {
  it('has a section of strip charts and a comparison table with a verdict per row', () => {
    const runs = [
      repeatedRun('a', [500, 520, 540, 560, 580]),
      repeatedRun('b', [300, 310, 320, 330, 340]),
    ];
    const html = renderHtml(experiment(runs, 5, ['a.attempts > b.attempts']));
    expect(html).toContain('<h2>Repeats and comparisons</h2>');
    expect(html.match(/<svg[^>]*class="repeats"/g)).toHaveLength(repeatFigures.length);
    expect(html).toMatch(/<tr class="worse"><td>a vs b<\/td><td>amplification<\/td>/);
    expect(html).toContain('✓ a.attempts &gt; b.attempts (got 220, interval of the difference');
  });

  it('says why two runs cannot be compared below 5 repeats', () => {
    const runs = [repeatedRun('a', [500, 520, 540]), repeatedRun('b', [300, 310, 320])];
    const result = experiment(runs, 3, ['a.attempts > b.attempts']);
    expect(thresholdLines(result)).toEqual([
      '✗ a.attempts > b.attempts (got 210, interval of the difference 200 to 220; 3 repeats cannot show a difference at 95 %: use --repeat 5)',
    ]);
    expect(comparisonLines(result)).toContain(
      'a vs b: amplification +2.1 [+2.0, +2.2] → no verdict below 5 repeats',
    );
  });

  it('has no such section for a single run', () => {
    const html = renderHtml(experiment([rpcSummary('a')], 1));
    expect(html).not.toContain('Repeats and comparisons');
  });
});

describe('the report of a run from several generators', () => {
  it('says so under the table, and shows each generator’s share and own lateness', () => {
    const generator = (segment: string, pacingP99Ms: number, warnings: string[] = []) => ({
      segment,
      sent: 50,
      ok: 49,
      failed: 1,
      dropped: 0,
      pacingP99Ms,
      latenessP99Ms: pacingP99Ms + 1,
      burstSpreadP50Ms: null,
      durationMs: 1000,
      warnings,
    });
    const run = {
      ...rpcSummary('a'),
      generators: [
        generator('0/2', 1.5),
        generator('1/2', 7.25, ['the generator sent requests late']),
      ],
    };
    const result = experiment([run], 1);
    expect(notes(result)).toContain(
      "a: load from 2 generators, each a segment of one schedule on one clock, merged exactly (counts summed, latency histograms added); each generator's own lateness p99: 0/2 1.5 ms, 1/2 7.3 ms (wall time).",
    );
    const html = renderHtml(result);
    expect(html).toContain('<h2>Generators</h2>');
    expect(html).toContain(
      '<tr><td>a</td><td>1/2</td><td>50</td><td>49</td><td>1</td><td>0</td><td>7.25</td><td>8.25</td><td>-</td><td class="text">the generator sent requests late</td></tr>',
    );
    expect(renderHtml(experiment([rpcSummary('a')], 1))).not.toContain('<h2>Generators</h2>');
  });
});
