import { describe, expect, it } from 'vitest';
import { recoveryTime } from '../../load/experiment/recovery.ts';
import { type Bucket } from '../../load/generator/series.ts';

/** 100 ms buckets of 10 answers each; `okCounts[i]` of them ok. */
const series = (okCounts: Array<number | null>): Bucket[] =>
  okCounts.map((ok, i) => ({
    startMs: i * 100,
    sent: ok === null ? 0 : 10,
    ok: ok ?? 0,
    failed: ok === null ? 0 : 10 - ok,
    dropped: 0,
    p50Ms: null,
    p99Ms: null,
  }));

describe('recoveryTime', () => {
  const window = [{ startMs: 300, endMs: 500 }];

  it('is null without a fault or trigger window', () => {
    expect(recoveryTime(series([10, 10]), [])).toBeNull();
  });

  it('times from the end of the last window to the first bucket back at 90 % of the ratio before', () => {
    // Before: 10/10. After the window ends at 500 ms: 2, 5, then 9 and 10 from 700 ms on.
    const buckets = series([10, 10, 10, 0, 0, 2, 5, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    expect(recoveryTime(buckets, window)).toBe(200);
  });

  it('does not count one lucky bucket: the ratio must stay back for the hold time', () => {
    const buckets = series([10, 10, 10, 0, 0, 9, 1, 1, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    expect(recoveryTime(buckets, window)).toBe(300);
    // With a hold of one bucket the lucky one counts.
    expect(recoveryTime(buckets, window, 100)).toBe(0);
  });

  it('says the fault is still active, not that nothing recovered, when its window outlasts the run', () => {
    const buckets = series([10, 10, 10, 0, 0, 0]);
    expect(recoveryTime(buckets, [{ startMs: 300, endMs: 5000 }], 1000, 600)).toBe(
      'fault still active',
    );
    // The same window ending before the run does: judged as usual.
    expect(recoveryTime(buckets, window, 1000, 600)).toBe('did not recover');
  });

  it('says so when the run never gets back, and skips empty buckets', () => {
    expect(recoveryTime(series([10, 10, 10, 0, 0, 3, null, 4, 2, 1]), window)).toBe(
      'did not recover',
    );
    expect(recoveryTime(series([10, 10, 10, 0, 0, null, 10, 10]), window)).toBe(100);
  });

  it('measures against the ratio before the first window, not an ideal one', () => {
    // Before the window only half succeed; 5 of 10 after it is a full recovery.
    expect(recoveryTime(series([5, 5, 5, 0, 0, 5, 5, 5]), window)).toBe(0);
  });
});
