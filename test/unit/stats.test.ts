import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../load/generator/stats.ts';

describe('LatencyRecorder', () => {
  it('summarises known data within HDR precision (3 significant digits)', () => {
    const recorder = new LatencyRecorder();
    for (let ms = 1; ms <= 1000; ms += 1) recorder.record(ms);
    const summary = recorder.summary();
    expect(summary.count).toBe(1000);
    expect(summary.p50Ms).toBeCloseTo(500, -1);
    expect(Math.abs(summary.p50Ms! - 500)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(summary.p95Ms! - 950)).toBeLessThanOrEqual(1);
    expect(Math.abs(summary.p99Ms! - 990)).toBeLessThanOrEqual(1);
    expect(Math.abs(summary.maxMs! - 1000)).toBeLessThanOrEqual(1);
    expect(Math.abs(summary.meanMs! - 500.5)).toBeLessThanOrEqual(0.5);
  });

  it('keeps microseconds: sub-millisecond latencies are not rounded to zero', () => {
    const recorder = new LatencyRecorder();
    recorder.record(0.25);
    recorder.record(0.75);
    expect(recorder.summary().maxMs).toBeCloseTo(0.75, 2);
    expect(recorder.percentileMs(0)).toBeCloseTo(0.25, 2);
  });

  it('gives the dense answers within 1 % packed (2 significant digits, for per-bucket charts)', () => {
    const dense = new LatencyRecorder();
    const packed = new LatencyRecorder({ packed: true });
    for (let i = 0; i < 5000; i += 1) {
      const ms = ((i * 7919) % 3000) / 7 + 0.3;
      dense.record(ms);
      packed.record(ms);
    }
    const [d, p] = [dense.summary(), packed.summary()];
    expect(p.count).toBe(d.count);
    for (const key of ['p50Ms', 'p95Ms', 'p99Ms', 'maxMs', 'meanMs'] as const)
      expect(Math.abs(p[key]! - d[key]!) / d[key]!, key).toBeLessThanOrEqual(0.01);
  });

  it('answers null for an empty recorder', () => {
    expect(new LatencyRecorder().summary()).toEqual({
      count: 0,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      maxMs: null,
      meanMs: null,
    });
  });
});
