import { describe, expect, it } from 'vitest';
import {
  buildSchedule,
  bursts,
  closedLoopOf,
  constant,
  ramp,
  stages,
} from '../../load/schedule/schedule.ts';

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

describe('arrivals: poisson', () => {
  const gaps = (offsets: number[]) => offsets.slice(1).map((at, i) => at - offsets[i]!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const cv = (xs: number[]) => {
    const m = mean(xs);
    return Math.sqrt(mean(xs.map((x) => (x - m) ** 2))) / m;
  };

  it('is a Poisson process of the rate: count within 4 σ, exponential gaps (CV ≈ 1), ascending', () => {
    const offsets = buildSchedule({
      kind: 'constant',
      ratePerSecond: 1000,
      durationMs: 10_000,
      arrivals: 'poisson',
      seed: 7,
    });
    // 10 000 expected, σ = 100.
    expect(Math.abs(offsets.length - 10_000)).toBeLessThan(400);
    expect(mean(gaps(offsets))).toBeCloseTo(1, 1);
    expect(cv(gaps(offsets))).toBeGreaterThan(0.95);
    expect(cv(gaps(offsets))).toBeLessThan(1.05);
    expect(offsets.every((at, i) => i === 0 || at >= offsets[i - 1]!)).toBe(true);
    expect(offsets.at(-1)!).toBeLessThan(10_000);
    // Even arrivals: gaps all alike.
    expect(
      cv(gaps(buildSchedule({ kind: 'constant', ratePerSecond: 1000, durationMs: 1000 }))),
    ).toBeLessThan(1e-6);
  });

  it('is seeded: the same seed, the same arrivals; another seed, others', () => {
    const spec = {
      kind: 'ramp',
      fromRps: 10,
      toRps: 200,
      durationMs: 5000,
      arrivals: 'poisson',
    } as const;
    expect(buildSchedule({ ...spec, seed: 3 })).toEqual(buildSchedule({ ...spec, seed: 3 }));
    expect(buildSchedule({ ...spec, seed: 3 })).not.toEqual(buildSchedule({ ...spec, seed: 4 }));
    expect(buildSchedule(spec)).toEqual(buildSchedule({ ...spec, seed: 1 }));
  });

  it('follows a varying rate: a ramp has more arrivals in its second half', () => {
    const offsets = buildSchedule({
      kind: 'ramp',
      fromRps: 0,
      toRps: 2000,
      durationMs: 4000,
      arrivals: 'poisson',
      seed: 11,
    });
    const early = offsets.filter((at) => at < 2000).length;
    // ∫ over the halves: 1 000 and 3 000 expected.
    expect(Math.abs(early - 1000)).toBeLessThan(130);
    expect(Math.abs(offsets.length - early - 3000)).toBeLessThan(220);
  });
});

describe('kind: closed', () => {
  it("is its users' first requests at 0, and its loop", () => {
    const spec = { kind: 'closed', users: 4, thinkTimeMs: 100, durationMs: 5000 } as const;
    expect(buildSchedule(spec)).toEqual([0, 0, 0, 0]);
    expect(closedLoopOf(spec)).toEqual({ thinkTimeMs: 100, durationMs: 5000 });
    expect(closedLoopOf({ kind: 'constant', ratePerSecond: 1, durationMs: 1 })).toBeUndefined();
  });
});
