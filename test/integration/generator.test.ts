import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { connectFor } from '../../load/generator/pool.ts';
import { runLoad } from '../../load/generator/generator.ts';
import { serveLoadMetrics } from '../../load/generator/metrics.ts';
import { Scrape } from '../../load/stack/prom-text.ts';
import { bursts, constant } from '../../load/schedule/schedule.ts';
import { mergeParts } from '../../load/distributed/merge.ts';
import { parsePart, toPart } from '../../load/distributed/part.ts';
import { scheduleFingerprint, segmentOf } from '../../load/distributed/segment.ts';
import { call } from '../support/http.ts';
import { type Running, startDownstream, startGateway } from '../support/rpc-path.ts';

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A real HTTP target that records what it received and how many requests it held at once. */
async function recordingTarget(latencyMs: number, path = '/rpc', status = 200) {
  const ids: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = Fastify();
  server.post<{ Body: { id: string } }>(path, async (request, reply) => {
    ids.push(request.body.id);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, latencyMs));
    inFlight -= 1;
    return reply.code(status).send({ id: request.body.id });
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  open.push(server);
  return { url, ids, maxInFlight: () => maxInFlight };
}

describe('open-loop load generator', () => {
  it('serves its own counters at /metrics while it runs, and they equal its result', async () => {
    const target = await recordingTarget(30);
    const served = await serveLoadMetrics(0, '127.0.0.1');
    open.push(served);
    // A cap of 5 with 40 simultaneous arrivals: 35 are dropped by the generator.
    const result = await runLoad({
      target: 'events',
      baseUrl: target.url.replace(/\/$/, ''),
      offsetsMs: Array.from({ length: 40 }, () => 0),
      maxOutstanding: 5,
      metrics: served.metrics,
    });
    // A 404 from this target (no /events route) counts as failed.
    expect(result).toMatchObject({ sent: 40, failed: 5, dropped: 35 });
    const scrape = await Scrape.of(served.url);
    const labels = { target: 'events', service: 'loadgen' };
    expect(scrape.sum('loadgen_requests_total', { ...labels, result: 'failed' })).toBe(5);
    expect(scrape.sum('loadgen_requests_total', { ...labels, result: 'dropped' })).toBe(35);
    expect(scrape.sum('loadgen_requests_total', { ...labels, result: 'ok' })).toBe(0);
    expect(scrape.sum('loadgen_request_duration_seconds_count', labels)).toBe(5);
    expect(scrape.sum('loadgen_outstanding_requests', labels)).toBe(0);
    expect((await call(`${served.url}/nothing`)).status).toBe(404);
  });

  it('sends every scheduled request once and accounts for each: sent = ok + failed + dropped', async () => {
    const target = await recordingTarget(1);
    const progress: number[] = [];
    const result = await runLoad({
      target: 'rpc',
      baseUrl: target.url,
      offsetsMs: constant(200, 1000),
      bucketMs: 100,
      progressEveryMs: 250,
      onProgress: (p) => progress.push(p.sent),
    });
    expect(result).toMatchObject({
      sent: 200,
      ok: 200,
      failed: 0,
      dropped: 0,
      outcomes: { ok: 200 },
    });
    expect(target.ids.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `req-${i}`).sort());
    expect(result.latency.count).toBe(200);
    expect(result.lateness.count).toBe(200);
    expect(result.series.reduce((sum, bucket) => sum + bucket.sent, 0)).toBe(200);
    expect(result.series.reduce((sum, bucket) => sum + bucket.ok, 0)).toBe(200);
    expect(result.series.length).toBeGreaterThanOrEqual(10);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toBe(200);
  });

  it('does not wait for slow answers: arrivals keep their schedule (open loop)', async () => {
    const target = await recordingTarget(400);
    const result = await runLoad({
      target: 'rpc',
      baseUrl: target.url,
      offsetsMs: constant(100, 200),
    });
    expect(result.ok).toBe(20);
    // A closed loop would hold one request at a time; the open loop held them all at once.
    expect(target.maxInFlight()).toBe(20);
    // Latency counts from the scheduled time, so it includes the 400 ms the server took.
    expect(result.latency.p50Ms).toBeGreaterThanOrEqual(400);
  });

  it('keeps reporting progress while the last answers are still in flight', async () => {
    // Answered after 3 s, reported every 500 ms: ticks in between whatever the machine is doing.
    const target = await recordingTarget(3000);
    const progress: Array<{ outstanding: number; ok: number }> = [];
    await runLoad({
      target: 'rpc',
      baseUrl: target.url,
      offsetsMs: [0, 0, 0],
      progressEveryMs: 500,
      onProgress: (p) => progress.push({ outstanding: p.outstanding, ok: p.ok }),
    });
    // Sent at once: the ticks before the answers show them in flight.
    expect(progress.filter((p) => p.outstanding === 3).length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toEqual({ outstanding: 0, ok: 3 });
    expect(progress.filter((p) => p.ok === 3)).toHaveLength(1);
  });

  it('counts arrivals beyond maxOutstanding as dropped instead of stalling the schedule', async () => {
    const target = await recordingTarget(300);
    const result = await runLoad({
      target: 'rpc',
      baseUrl: target.url,
      offsetsMs: bursts(20, 20, 0),
      maxOutstanding: 5,
    });
    expect(result).toMatchObject({ sent: 20, ok: 5, dropped: 15, failed: 0 });
    expect(result.outcomes['dropped: generator cap']).toBe(15);
    expect(target.ids).toHaveLength(5);
    expect(result.warnings.join('\n')).toContain('cap of 5 outstanding');
  });

  it('reports outcomes by status and error code against the real gateway', async () => {
    const downstream = await startDownstream();
    open.push(downstream.app);
    const gateway: Running = await startGateway(downstream.url, {
      maxRetries: 0,
      breaker: { enabled: false },
    });
    open.push(gateway.app);
    await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'error', durationMs: 60_000, fraction: 0.5 }] },
    });
    const result = await runLoad({
      target: 'rpc',
      baseUrl: gateway.url,
      offsetsMs: constant(200, 500),
    });
    expect(result.sent).toBe(100);
    expect(result.ok + result.failed + result.dropped).toBe(100);
    expect(result.outcomes['502 downstream_error']).toBe(result.failed);
    expect(result.failed).toBeGreaterThan(20);
    expect(result.ok).toBeGreaterThan(20);
  });

  it('opens a connection per request the schedule can have in flight (the largest burst by default) and keeps a pool it was given', async () => {
    const target = await recordingTarget(1);
    const offsetsMs = bursts(150, 50, 100);
    const pool = await connectFor(target.url, offsetsMs);
    open.push(pool);
    expect(pool.openConnections).toBe(50);
    // Requests held up to 150 ms could make two bursts 100 ms apart overlap: 100 connections.
    const wider = await connectFor(target.url, offsetsMs, { holdMs: 150 });
    open.push(wider);
    expect(wider.openConnections).toBe(100);
    const result = await runLoad({ target: 'rpc', baseUrl: target.url, pool, offsetsMs });
    expect(result).toMatchObject({ sent: 150, ok: 150 });
    expect(result.bursts).toMatchObject({ count: 3, size: 50 });
    expect(result.lateness.count).toBe(150);
    expect(result.pacing.count).toBe(150);
    expect(pool.isClosed).toBe(false);
  });

  it('counts connection failures as failed', async () => {
    const result = await runLoad({
      target: 'rpc',
      baseUrl: 'http://127.0.0.1:9',
      offsetsMs: [0, 0, 0],
    });
    expect(result).toMatchObject({ sent: 3, failed: 3, outcomes: { connection_error: 3 } });
  });

  it('sends, from n generators with segment i/n and one start, each arrival once with an id that never collides; their parts merge to the whole', async () => {
    const target = await recordingTarget(5);
    const offsets = bursts(600, 100, 150);
    const count = 3;
    const startAt = Date.now() + 400;
    const results = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const share = segmentOf(offsets, { index, count });
        const result = await runLoad({
          target: 'rpc',
          baseUrl: target.url.replace(/\/$/, ''),
          offsetsMs: share.offsetsMs,
          indices: share.indices,
          startAt,
          record: true,
          idPrefix: 'shared',
        });
        const meta = {
          name: 'load',
          segment: { index, count },
          schedule: { arrivals: 600, fingerprint: scheduleFingerprint(offsets), largestBurst: 100 },
          startAt,
          target: 'rpc' as const,
          url: target.url,
          timeScale: 1,
          maxOutstanding: 10_000,
        };
        return parsePart(JSON.stringify(toPart(meta, result)), `part ${index}`);
      }),
    );
    // Every id of the whole schedule once: shared-0 … shared-599.
    expect([...target.ids].sort()).toEqual(
      Array.from({ length: 600 }, (_, k) => `shared-${k}`).sort(),
    );
    expect(results.map(({ part }) => part.result.sent)).toEqual([200, 200, 200]);
    const { load, generators } = mergeParts(results);
    expect(load).toMatchObject({ sent: 600, ok: 600, failed: 0, dropped: 0 });
    expect(load.latency.count).toBe(600);
    // On one clock: six bursts, each begun by the earliest of the three, within its gap.
    expect(load.bursts).toMatchObject({ count: 6, size: 100 });
    expect(load.bursts!.startLatenessP99Ms).toBeLessThan(150);
    expect(generators).toHaveLength(3);
  });
});
