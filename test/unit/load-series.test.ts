import { describe, expect, it } from 'vitest';
import { BucketSeries, classify } from '../../load/load-series.ts';

describe('classify', () => {
  it('counts 200 as ok for rpc and 202 as ok for events, whatever the body', () => {
    expect(classify('rpc', 200, { error: 'ignored' })).toEqual({ kind: 'ok', label: 'ok' });
    expect(classify('events', 202)).toEqual({ kind: 'ok', label: 'ok' });
  });

  it('counts a duplicate event as ok and labels it, and a 200 without the flag as failed', () => {
    expect(classify('events', 200, { jobId: 'a', duplicate: true })).toEqual({
      kind: 'ok',
      label: 'duplicate',
    });
    expect(classify('events', 200, { jobId: 'a' })).toEqual({ kind: 'failed', label: '200 error' });
  });

  it('counts 429 from the producer as dropped, and a 429 from the gateway as failed', () => {
    expect(classify('events', 429, { error: 'queue_full' })).toEqual({
      kind: 'dropped',
      label: '429 queue_full',
    });
    expect(classify('rpc', 429, { error: 'too_many' })).toEqual({
      kind: 'failed',
      label: '429 too_many',
    });
  });

  it('labels failures by status and error code, and by status alone when the body says nothing', () => {
    expect(classify('rpc', 503, { error: 'circuit_open' })).toEqual({
      kind: 'failed',
      label: '503 circuit_open',
    });
    expect(classify('rpc', 502)).toEqual({ kind: 'failed', label: '502 error' });
    expect(classify('rpc', 502, 'not an object')).toEqual({ kind: 'failed', label: '502 error' });
    expect(classify('events', 503, { error: 7 })).toEqual({ kind: 'failed', label: '503 error' });
  });
});

describe('BucketSeries', () => {
  it('puts each moment in its bucket, creating the empty buckets before it', () => {
    const series = new BucketSeries(100);
    series.at(0).sent += 1;
    series.at(99.9).sent += 1;
    series.at(250).ok += 1;
    expect(series.toJSON().map(({ startMs, sent, ok }) => ({ startMs, sent, ok }))).toEqual([
      { startMs: 0, sent: 2, ok: 0 },
      { startMs: 100, sent: 0, ok: 0 },
      { startMs: 200, sent: 0, ok: 1 },
    ]);
  });

  it('counts a moment before the start in the first bucket', () => {
    const series = new BucketSeries(100);
    series.at(-5).failed += 1;
    expect(series.toJSON()[0]).toMatchObject({ startMs: 0, failed: 1 });
  });

  it('reports each bucket’s latency percentiles, and null for a bucket without answers', () => {
    const series = new BucketSeries(100);
    for (let ms = 1; ms <= 100; ms += 1) series.at(50).latency.record(ms);
    series.at(150);
    const [first, second] = series.toJSON();
    expect(first!.p50Ms).toBeCloseTo(50, 0);
    expect(first!.p99Ms).toBeCloseTo(99, 0);
    expect(second).toMatchObject({ p50Ms: null, p99Ms: null });
  });
});
