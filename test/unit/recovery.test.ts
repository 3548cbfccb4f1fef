import { describe, expect, it } from 'vitest';
import {
  combineRecoveries,
  judgeRecovery,
  type Recovery,
  recoveryText,
} from '../../load/experiment/recovery.ts';
import type { Bucket } from '../../load/generator/series.ts';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';

/** 100 ms buckets of `rate` requests over `durationMs`; `okShare(t)` of them answered ok, `answered(t)` answered at all. */
function series(
  okShare: (t: number) => number,
  { durationMs = 9000, rate = 10, answered = (t: number): boolean => t >= 0 } = {},
): Bucket[] {
  return Array.from({ length: durationMs / 100 }, (_, i) => {
    const t = i * 100;
    if (!answered(t))
      return { startMs: t, sent: rate, ok: 0, failed: 0, dropped: 0, p50Ms: null, p99Ms: null };
    const ok = Math.round(rate * okShare(t));
    return { startMs: t, sent: rate, ok, failed: rate - ok, dropped: 0, p50Ms: 1, p99Ms: 1 };
  });
}
const spike = [{ startMs: 2000, endMs: 3000 }];
const judge = (buckets: Bucket[], windows = spike) =>
  judgeRecovery(buckets, windows, defaultVerdictRule);

describe('the recovery verdict (one rule for the table, the report, thresholds and sweeps)', () => {
  it('says a collapse did not recover, though it looked healthy for a moment after its trigger', () => {
    // After the spike the queued answers come back for half a second, then nothing is answered
    // again: the empty buckets are 0 % ok, not idle (the old rule called this "recovered in 0 ms").
    const collapse = series(() => 1, { answered: (t) => t < 3500 });
    expect(judge(collapse)).toMatchObject({ verdict: 'did not recover', recoveryMs: null });
    // Answered, but failing, from 3.5 s on: the same.
    expect(judge(series((t) => (t < 3500 ? 1 : 0.2)))).toMatchObject({
      verdict: 'did not recover',
    });
  });

  it('times a real recovery from the trigger’s end to the first window that holds', () => {
    // Down from 2.2 s to 4.3 s: the first healthy window starts at 4.3 s, 1.3 s after the spike.
    const recovered = judge(series((t) => (t >= 2200 && t < 4300 ? 0 : 1)));
    expect(recovered).toMatchObject({
      verdict: 'recovered',
      recoveryMs: 1300,
      lowestRatio: 0,
      ratioBefore: 1,
      observedMs: 6000,
    });
    expect(recoveryText(recovered)).toBe('1300 ms');
    // Back at 3.5 s for 0.3 s, down again until 5 s: the short spell does not hold.
    expect(
      judge(series((t) => (t >= 2200 && t < 5000 && !(t >= 3500 && t < 3800) ? 0 : 1))),
    ).toMatchObject({ verdict: 'recovered', recoveryMs: 2000 });
    // Back late, 0.8 s before the load ends: healthy to the end, so recovered, late.
    expect(judge(series((t) => (t >= 2200 && t < 8200 ? 0 : 1)))).toMatchObject({
      verdict: 'recovered',
      recoveryMs: 5200,
    });
  });

  it('says the fault is still active when it outlasts the load: nothing to recover from', () => {
    const down = series((t) => (t >= 2000 ? 0 : 1));
    expect(judge(down, [{ startMs: 2000, endMs: 9500 }])).toMatchObject({
      verdict: 'fault still active',
      recoveryMs: null,
    });
    // The same series with a fault that ended: judged, and it did not recover.
    expect(judge(down).verdict).toBe('did not recover');
  });

  it('is stable when no window fell below the rule, overloaded when under it before the trigger, and has nothing to say without one', () => {
    // One failure in ten in one bucket: the 500 ms window around it is still 98 % ok.
    expect(judge(series((t) => (t === 2500 ? 0.9 : 1)))).toMatchObject({
      verdict: 'stable',
      lowestRatio: 0.98,
    });
    expect(judge(series(() => 0.8))).toMatchObject({ verdict: 'overloaded', ratioBefore: 0.8 });
    expect(
      judge(
        series(() => 1),
        [],
      ),
    ).toEqual(expect.objectContaining({ verdict: 'no trigger' }));
    expect(
      recoveryText(
        judge(
          series(() => 1),
          [],
        ),
      ),
    ).toBe('-');
  });

  it('follows the rule it is given', () => {
    const dip = series((t) => (t >= 2200 && t < 3500 ? 0.7 : 1));
    expect(judge(dip)).toMatchObject({ verdict: 'recovered', recoveryMs: 400 });
    expect(judgeRecovery(dip, spike, { ...defaultVerdictRule, goodputRatio: 0.6 }).verdict).toBe(
      'stable',
    );
  });
});

const repeatOf = (verdict: Recovery['verdict'], recoveryMs: number | null = null): Recovery => ({
  verdict,
  recoveryMs,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
});

describe('the recovery verdict over repeats', () => {
  it('is what most repeats said; with no majority, the median recovery of those that came back', () => {
    expect(
      combineRecoveries([
        repeatOf('did not recover'),
        repeatOf('did not recover'),
        repeatOf('recovered', 500),
      ]),
    ).toMatchObject({
      verdict: 'did not recover',
      counts: { 'did not recover': 2, recovered: 1 },
    });
    expect(
      combineRecoveries([repeatOf('stable'), repeatOf('stable'), repeatOf('recovered', 500)])
        .verdict,
    ).toBe('stable');
    expect(
      combineRecoveries([
        repeatOf('stable'),
        repeatOf('recovered', 800),
        repeatOf('did not recover'),
      ]),
    ).toMatchObject({ verdict: 'recovered', recoveryMs: 400 });
    expect(combineRecoveries([repeatOf('did not recover'), repeatOf('overloaded')]).verdict).toBe(
      'did not recover',
    );
    expect(combineRecoveries([repeatOf('fault still active')]).verdict).toBe('fault still active');
    expect(combineRecoveries([repeatOf('no trigger')]).verdict).toBe('no trigger');
  });
});
