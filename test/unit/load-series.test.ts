import { describe, expect, it } from 'vitest';
import { BucketSeries, classify } from '../../load/generator/series.ts';
import { planHttpRequests } from '../../load/generator/http-target.ts';

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

  it('gives the same buckets whether latencies are recorded as answers come or into each bucket', () => {
    const direct = new BucketSeries(100);
    const folded = new BucketSeries(100);
    // Answers in time order over three buckets, the middle one empty, then one more later.
    const answers = [
      ...Array.from({ length: 80 }, (_, i) => [i, 5 + i * 3] as const),
      ...Array.from({ length: 40 }, (_, i) => [200 + i, 400 - i] as const),
      [450, 7] as const,
    ];
    for (const [atMs, latencyMs] of answers) {
      direct.at(atMs).latency.record(latencyMs);
      folded.recordLatency(atMs, latencyMs);
    }
    expect(folded.toJSON()).toEqual(direct.toJSON());
    const p50s = folded.toJSON().map((bucket) => bucket.p50Ms);
    expect([p50s[1], p50s[3]]).toEqual([null, null]);
    expect(p50s[4]).toBeCloseTo(7, 1);
    // Encoded, the exact maxima included: what merges across generators.
    expect(folded.encode()).toEqual(direct.encode());
  });
});

describe('an HTTP target (any endpoint)', () => {
  it('counts the statuses it was told are ok, and labels the rest by status', () => {
    const isOk = (status: number) => status === 200 || status === 404;
    expect(classify('http', 404, undefined, isOk)).toEqual({ kind: 'ok', label: 'ok' });
    expect(classify('http', 500, undefined, isOk)).toEqual({ kind: 'failed', label: '500' });
    expect(classify('http', 503, { error: 'busy' }, isOk)).toEqual({
      kind: 'failed',
      label: '503 busy',
    });
    // Every 2xx by default; a 429 from another server is a failure, not a drop.
    expect(classify('http', 204)).toEqual({ kind: 'ok', label: 'ok' });
    expect(classify('http', 429)).toEqual({ kind: 'failed', label: '429' });
  });

  it('fills {{index}}, {{id}} and {{uuid}} in the path, headers and body of each request', () => {
    const plan = planHttpRequests(
      {
        method: 'POST',
        path: '/orders/{{index}}?ref={{id}}',
        headers: { 'X-Request-Id': '{{uuid}}', Accept: 'application/json' },
        body: '{"n":{{index}},"id":"{{id}}"}',
      },
      'run1',
    );
    expect(plan.path(7)).toBe('/orders/7?ref=run1-7');
    expect(plan.body?.(7)).toBe('{"n":7,"id":"run1-7"}');
    const lines = plan.headerLines(7);
    expect(lines).toMatch(/^x-request-id: [0-9a-f-]{36}\r\naccept: application\/json\r\n$/);
    expect(plan.headerLines(8)).not.toBe(lines);
    expect([200, 299, 300].map(plan.isOk)).toEqual([true, true, false]);
  });

  it('refuses the headers that frame a message: the generator writes them', () => {
    expect(() =>
      planHttpRequests({ method: 'POST', headers: { 'Content-Length': '3' }, body: 'abc' }, 'r'),
    ).toThrow('request.headers.Content-Length: set by the generator from the body it sends');
  });
});
