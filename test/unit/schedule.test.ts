import { describe, expect, it } from 'vitest';
import { buildSchedule, bursts, constant, ramp, stages } from '../../load/schedule/schedule.ts';

describe('schedules', () => {
  it('bursts: the seed pattern fires 2000 requests in bursts of 350 every 80 ms', () => {
    const offsets = bursts(2000, 350, 80);
    expect(offsets).toHaveLength(2000);
    expect(offsets.slice(0, 350).every((t) => t === 0)).toBe(true);
    expect(offsets[350]).toBe(80);
    expect(offsets[1999]).toBe(400);
    expect(new Set(offsets)).toEqual(new Set([0, 80, 160, 240, 320, 400]));
    expect(offsets.filter((t) => t === 400)).toHaveLength(250);
  });

  it('constant: rate × duration arrivals, evenly spaced', () => {
    expect(constant(4, 1000)).toEqual([0, 250, 500, 750]);
    expect(constant(1000, 50)).toHaveLength(50);
    expect(constant(3, 1000)).toEqual([0, 1000 / 3, 2000 / 3]);
  });

  it('ramp: count is the area under the rate, and gaps shrink as the rate rises', () => {
    const offsets = ramp(0, 100, 2000);
    // ∫ 0→100 rps over 2 s = 100 requests; the i-th at t = sqrt(2·i / slope) with slope 50/s².
    expect(offsets).toHaveLength(100);
    for (const [i, t] of offsets.entries())
      expect(t).toBeCloseTo(Math.sqrt((2 * i) / 50) * 1000, 6);
    expect(offsets[1]! - offsets[0]!).toBeGreaterThan(offsets[99]! - offsets[98]!);
    // A flat ramp is a constant rate.
    const flat = ramp(10, 10, 1000);
    const even = constant(10, 1000);
    expect(flat).toHaveLength(even.length);
    for (const [i, t] of flat.entries()) expect(t).toBeCloseTo(even[i]!, 9);
  });

  it('stages: k6-style linear stages, continuous across stage boundaries', () => {
    const offsets = stages([
      { durationMs: 1000, targetRps: 100 },
      { durationMs: 1000, targetRps: 100 },
      { durationMs: 1000, targetRps: 0 },
    ]);
    // 50 + 100 + 50 requests.
    expect(offsets).toHaveLength(200);
    expect(offsets.filter((t) => t < 1000)).toHaveLength(50);
    expect(offsets.filter((t) => t >= 1000 && t < 2000)).toHaveLength(100);
    expect(offsets.filter((t) => t >= 2000)).toHaveLength(50);
    // During the flat stage arrivals are exactly 10 ms apart.
    const flat = offsets.filter((t) => t >= 1000 && t < 2000);
    for (let i = 1; i < flat.length; i += 1) expect(flat[i]! - flat[i - 1]!).toBeCloseTo(10, 6);
    for (let i = 1; i < offsets.length; i += 1)
      expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
  });

  it('builds from a spec', () => {
    expect(buildSchedule({ kind: 'bursts', total: 5, burst: 2, gapMs: 10 })).toEqual([
      0, 0, 10, 10, 20,
    ]);
    expect(buildSchedule({ kind: 'constant', ratePerSecond: 2, durationMs: 1000 })).toEqual([
      0, 500,
    ]);
    expect(
      buildSchedule({
        kind: 'stages',
        startRps: 10,
        stages: [{ durationMs: 1000, targetRps: 10 }],
      }),
    ).toHaveLength(10);
  });
});
