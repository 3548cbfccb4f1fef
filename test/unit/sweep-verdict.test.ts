import { describe, expect, it } from 'vitest';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';
import { cellVerdict, repeatVerdict } from '../../load/sweep/verdict.ts';
import { series, spikeWindow, judge, repeatOf } from './sweep-fixtures.ts';

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
