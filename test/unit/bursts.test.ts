import { describe, expect, it } from 'vitest';
import { BurstTracker, burstSpreadLimitMs, peakArrivals } from '../../load/generator/bursts.ts';
import { bursts, constant } from '../../load/schedule/schedule.ts';

describe('peakArrivals', () => {
  it('is the largest burst with no window', () => {
    expect(peakArrivals(bursts(2000, 350, 80))).toBe(350);
    expect(peakArrivals(constant(100, 1000))).toBe(1);
    expect(peakArrivals([0, 5, 5, 5, 9, 9])).toBe(3);
    expect(peakArrivals([])).toBe(0);
  });

  it('counts the most arrivals within a window, its ends included', () => {
    expect(peakArrivals(bursts(2000, 350, 80), 80)).toBe(700);
    expect(peakArrivals(bursts(2000, 350, 80), 1000)).toBe(2000);
    expect(peakArrivals(constant(100, 10_000), 1000)).toBe(101);
    expect(peakArrivals([0, 5, 5, 5, 9, 9], 4)).toBe(5);
  });
});

describe('BurstTracker', () => {
  it('has nothing to say when no two arrivals share an instant', () => {
    expect(new BurstTracker(constant(100, 1000)).summary()).toBeNull();
  });

  it('measures each burst from its first to its last request, and how late the first left', () => {
    const tracker = new BurstTracker([0, 0, 0, 100, 100, 100, 150]);
    // Burst at 0 left from 1 to 4 ms; the one at 100 from 102 to 103; 150 is alone.
    for (const [index, atMs] of [
      [0, 1],
      [1, 2],
      [2, 4],
      [3, 102],
      [4, 102.5],
      [5, 103],
      [6, 151],
    ] as const)
      tracker.dispatched(index, atMs);
    const summary = tracker.summary()!;
    expect(summary).toMatchObject({ count: 2, size: 3, spreadMaxMs: 3 });
    expect(summary.spreadP50Ms).toBeCloseTo(1, 1);
    expect(summary.startLatenessP99Ms).toBeCloseTo(2, 1);
    expect(summary.spreadLimitMs).toBe(2);
  });

  it('ignores requests that never left (dropped by the cap)', () => {
    const tracker = new BurstTracker([0, 0, 0]);
    tracker.dispatched(0, 0.5);
    tracker.dispatched(1, 1.5);
    expect(tracker.summary()).toMatchObject({ count: 1, size: 3, spreadMaxMs: 1 });
  });
});

describe('burstSpreadLimitMs', () => {
  it('allows 15 ms for the seed’s 350, in proportion above that, and 2 ms at least', () => {
    expect(burstSpreadLimitMs(350)).toBe(15);
    expect(burstSpreadLimitMs(700)).toBe(30);
    expect(burstSpreadLimitMs(10)).toBe(2);
  });
});
