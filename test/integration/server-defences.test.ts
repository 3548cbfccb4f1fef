import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { buildDownstream } from '../../services/downstream/app.ts';
import { defaultFailureModel } from '../../services/downstream/failure-model.ts';
import { deadlineHeader } from '../../services/shared/downstream-work.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { closeAfterEach, startDownstream, startGateway } from '../support/rpc-path.ts';
import { abandon, gaugeReaches, outcomes } from '../support/downstream-probes.ts';

const { open, keep } = closeAfterEach();

/** A downstream that works on one call at a time, with no jitter, and the rest of `model`. */
const onePoolSlot = async (model: Parameters<typeof startDownstream>[0]) =>
  keep(await startDownstream({ poolConcurrency: 1, jitterMs: 0, ...model }));

describe('server-side defences over real HTTP', () => {
  it('refuses work whose deadline has passed on arrival, before it takes a slot', async () => {
    const downstream = keep(await startDownstream({ honourDeadlines: true }));
    const refused = await call(`${downstream.url}/work`, {
      body: { id: 'late' },
      headers: { [deadlineHeader]: '0' },
    });
    expect(refused.status).toBe(504);
    expect(refused.body).toMatchObject({ error: 'deadline_exceeded' });
    expect(await outcomes(downstream.url, 'deadline_refused')).toBe(1);
    // It never took a slot: no arrival was counted towards the load.
    expect(await scrape(downstream.url, 'downstream_arrival_load_factor_count')).toBe(0);
    // A malformed deadline is no deadline; without the setting the header is ignored.
    const ignored = await call(`${downstream.url}/work`, {
      body: { id: 'odd' },
      headers: { [deadlineHeader]: 'soon' },
    });
    expect(ignored.status).toBe(200);
    const off = keep(await startDownstream());
    expect(
      (await call(`${off.url}/work`, { body: { id: 'x' }, headers: { [deadlineHeader]: '0' } }))
        .status,
    ).toBe(200);
  });

  it('drops work when its deadline passes in flight: no effect applied, the slot freed at the deadline', async () => {
    const downstream = keep(
      await startDownstream({ honourDeadlines: true, baseLatencyMs: 1500, jitterMs: 0 }),
    );
    const startedAt = performance.now();
    const dropped = await call(`${downstream.url}/work`, {
      body: { id: 'slow' },
      headers: { [deadlineHeader]: '100', 'idempotency-key': 'k-slow' },
    });
    // Less than the 1.5 s of work (wide margin for a loaded machine).
    expect(performance.now() - startedAt).toBeLessThan(1200);
    expect(dropped.status).toBe(504);
    expect(await outcomes(downstream.url, 'deadline_dropped')).toBe(1);
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0);
    // A retry with the same key is no duplicate: the first never had its effect.
    await call(`${downstream.url}/work`, {
      body: { id: 'slow' },
      headers: { [deadlineHeader]: '5000', 'idempotency-key': 'k-slow' },
    });
    expect(await scrape(downstream.url, 'downstream_duplicate_effects_total')).toBe(0);
  });

  it('the gateway sends its per-attempt timeout as the deadline, so the downstream stops when it gives up', async () => {
    const downstream = keep(
      await startDownstream({ honourDeadlines: true, baseLatencyMs: 3000, jitterMs: 0 }),
    );
    const gateway = keep(
      await startGateway(downstream.url, {
        preset: 'unsafe',
        maxRetries: 0,
        perAttemptTimeoutMs: 150,
      }),
    );
    const answer = await call(`${gateway.url}/rpc`, { body: { id: 'g-1' } });
    expect(answer.status).toBe(504);
    // The downstream dropped the work at the gateway's deadline instead of working 3 s for nobody.
    await eventually(async () =>
      expect(
        (await outcomes(downstream.url, 'deadline_dropped')) +
          (await outcomes(downstream.url, 'cancelled')),
      ).toBe(1),
    );
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0);
    expect(await scrape(downstream.url, 'downstream_wasted_work_total')).toBe(0);
  });

  it('with cancel on disconnect, an aborted request frees its slot at once and does no work', async () => {
    const downstream = keep(
      await startDownstream({ cancelOnDisconnect: true, baseLatencyMs: 3000, jitterMs: 0 }),
    );
    const startedAt = performance.now();
    await abandon(downstream.url, 'gone', 100);
    await eventually(async () => expect(await outcomes(downstream.url, 'cancelled')).toBe(1));
    expect(performance.now() - startedAt).toBeLessThan(2500);
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0);
    expect(await scrape(downstream.url, 'downstream_wasted_work_total')).toBe(0);
  });

  it('without it (the seed), the work goes on for nobody and is counted as wasted', async () => {
    const downstream = keep(await startDownstream({ baseLatencyMs: 600, jitterMs: 0 }));
    await abandon(downstream.url, 'gone', 100);
    // Still being worked on after the caller left.
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(1);
    await eventually(async () =>
      expect(await scrape(downstream.url, 'downstream_wasted_work_total', { caller: 'test' })).toBe(
        1,
      ),
    );
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0);
    expect(await outcomes(downstream.url, 'cancelled')).toBe(0);
  });

  it('with a worker pool, works on `poolConcurrency`, queues `poolQueueSize` and sheds the rest: 503 overloaded with Retry-After', async () => {
    const downstream = await onePoolSlot({ poolQueueSize: 1, baseLatencyMs: 400 });
    const first = call(`${downstream.url}/work`, { body: { id: 'a' } });
    await gaugeReaches(downstream.url, 'downstream_inflight_requests', 1);
    const second = call(`${downstream.url}/work`, { body: { id: 'b' } });
    await gaugeReaches(downstream.url, 'downstream_queued_requests', 1);
    const shed = await call(`${downstream.url}/work`, { body: { id: 'c' } });
    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.body).toMatchObject({ error: 'overloaded' });
    // The one waiting is not in the load: only the one worked on is.
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(1);
    expect([(await first).status, (await second).status]).toEqual([200, 200]);
    expect(await outcomes(downstream.url, 'shed')).toBe(1);
    expect(await outcomes(downstream.url, 'ok')).toBe(2);
  });

  it('hands a freed slot to the newest waiter with a lifo queue, the oldest with fifo', async () => {
    for (const [order, expected] of [
      ['fifo', ['w1', 'w2', 'w3']],
      ['lifo', ['w3', 'w2', 'w1']],
    ] as const) {
      const downstream = await onePoolSlot({
        poolQueueSize: 3,
        poolQueueOrder: order,
        baseLatencyMs: 150,
      });
      const done: string[] = [];
      const send = (id: string) =>
        call(`${downstream.url}/work`, { body: { id } }).then(() => done.push(id));
      const all = [send('busy')];
      await gaugeReaches(downstream.url, 'downstream_inflight_requests', 1);
      // One at a time, so each is queued behind the one before.
      for (const [i, id] of ['w1', 'w2', 'w3'].entries()) {
        all.push(send(id));
        await gaugeReaches(downstream.url, 'downstream_queued_requests', i + 1);
      }
      await Promise.all(all);
      expect(done, order).toEqual(['busy', ...expected]);
    }
  });

  it('refuses work whose deadline passed while it waited for a slot', async () => {
    const downstream = await onePoolSlot({
      poolQueueSize: 1,
      honourDeadlines: true,
      baseLatencyMs: 500,
    });
    const busy = call(`${downstream.url}/work`, { body: { id: 'busy' } });
    await gaugeReaches(downstream.url, 'downstream_inflight_requests', 1);
    const late = await call(`${downstream.url}/work`, {
      body: { id: 'late' },
      headers: { [deadlineHeader]: '100' },
    });
    expect(late.status).toBe(504);
    expect(late.body).toMatchObject({ error: 'deadline_exceeded' });
    expect((await busy).status).toBe(200);
    expect(await outcomes(downstream.url, 'deadline_refused')).toBe(1);
    expect(await outcomes(downstream.url, 'ok')).toBe(1);
  });

  it('with cancel on disconnect, a caller that leaves the queue gives up its place', async () => {
    const downstream = await onePoolSlot({
      poolQueueSize: 1,
      cancelOnDisconnect: true,
      baseLatencyMs: 1500,
    });
    const busy = call(`${downstream.url}/work`, { body: { id: 'busy' } });
    await gaugeReaches(downstream.url, 'downstream_inflight_requests', 1);
    await abandon(downstream.url, 'leaves', 150);
    await eventually(async () => expect(await outcomes(downstream.url, 'cancelled')).toBe(1));
    expect(await scrape(downstream.url, 'downstream_queued_requests')).toBe(0);
    // Its place is free again: the next one queues instead of being shed.
    const next = call(`${downstream.url}/work`, { body: { id: 'next' } });
    expect((await busy).status).toBe(200);
    expect((await next).status).toBe(200);
    expect(await outcomes(downstream.url, 'shed')).toBe(0);
  });

  it('the gateway does not retry a shed call: it answers 503 overloaded after one attempt', async () => {
    const downstream = await onePoolSlot({ poolQueueSize: 0, baseLatencyMs: 400 });
    // The unsafe preset retries everything it may at once; overload is still not retried.
    const gateway = keep(
      await startGateway(downstream.url, {
        preset: 'unsafe',
        perAttemptTimeoutMs: 2000,
        maxRetries: 3,
      }),
    );
    const busy = call(`${gateway.url}/rpc`, { body: { id: 'busy' } });
    await gaugeReaches(downstream.url, 'downstream_inflight_requests', 1);
    const shed = await call(`${gateway.url}/rpc`, { body: { id: 'shed' } });
    expect(shed.status).toBe(503);
    expect(shed.body).toMatchObject({ error: 'downstream_overloaded' });
    expect(shed.headers['x-attempts']).toBe('1');
    expect(
      await scrape(gateway.url, 'gateway_retries_denied_total', { reason: 'overloaded' }),
    ).toBe(1);
    expect((await busy).status).toBe(200);
    expect(await outcomes(downstream.url, 'shed')).toBe(1);
  });

  it('sheds work routes while the event loop lags (under-pressure), and keeps /healthz and /metrics answering', async () => {
    const app = buildDownstream({
      model: { ...defaultFailureModel, baseLatencyMs: 1, jitterMs: 0, failProbability: 0 },
      shedding: { eventLoopDelayMs: 20, eventLoopUtilization: 0 },
    });
    // A route that stalls the event loop, as a CPU-bound burst would.
    app.get('/test/stall', async () => {
      const until = performance.now() + 300;
      while (performance.now() < until);
      return {};
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    open.push(app);
    // The pressure lasts one sample (100 ms) after the stall: try until a pair lands in it.
    let round: { work: number; healthz: number; metrics: number; retryAfter: unknown } | undefined;
    for (let i = 0; i < 20 && round?.work !== 503; i++) {
      await call(`${url}/test/stall`, { method: 'GET' });
      const [work, healthz, metrics] = await Promise.all([
        call(`${url}/work`, { body: { id: `w-${i}` } }),
        call(`${url}/healthz`, { method: 'GET' }),
        request(`${url}/metrics`).then(async (r) => (await r.body.dump(), r.statusCode)),
      ]);
      round = {
        work: work.status,
        healthz: healthz.status,
        metrics,
        retryAfter: work.headers['retry-after'],
      };
      if (work.status === 503) expect(work.body).toMatchObject({ error: 'under_pressure' });
    }
    expect(round).toEqual({ work: 503, healthz: 200, metrics: 200, retryAfter: '1' });
    expect(
      await scrape(url, 'downstream_shed_requests_total', { reason: 'eventLoopDelay' }),
    ).toBeGreaterThanOrEqual(1);
    // Once the loop is calm again, work is taken.
    await eventually(async () =>
      expect((await call(`${url}/work`, { body: { id: 'calm' } })).status).toBe(200),
    );
  });

  it('takes a preset for its defences through the admin API, and names a wrong one', async () => {
    const downstream = keep(await startDownstream());
    const put = (model: unknown) =>
      call(`${downstream.url}/admin/faults`, { method: 'PUT', body: { model } });
    const aware = await put({ preset: 'deadline-aware', baseLatencyMs: 5 });
    expect(aware.status).toBe(200);
    expect(aware.body).toMatchObject({
      model: {
        honourDeadlines: true,
        cancelOnDisconnect: true,
        baseLatencyMs: 5,
        poolConcurrency: 0,
      },
    });
    expect((await put({ preset: 'bounded' })).body).toMatchObject({
      model: {
        honourDeadlines: true,
        poolConcurrency: 25,
        poolQueueSize: 50,
        poolQueueOrder: 'lifo',
      },
    });
    expect((await put({ preset: 'seed' })).body).toMatchObject({
      model: {
        honourDeadlines: false,
        cancelOnDisconnect: false,
        poolConcurrency: 0,
        baseLatencyMs: 5,
      },
    });
    const wrong = await put({ preset: 'fortress' });
    expect(wrong.status).toBe(400);
    expect(JSON.stringify(wrong.body)).toMatch(/preset/);
  });
});
