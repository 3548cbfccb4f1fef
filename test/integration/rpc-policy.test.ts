import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { PolicyUpdate } from '../../services/gateway/policy.ts';
import { call, eventually, scrape } from '../support/http.ts';
import {
  closeAfterEach,
  startDownstream,
  startGateway,
  startRpcPath,
} from '../support/rpc-path.ts';

const { keep } = closeAfterEach();
const rpcPath = (model: Parameters<typeof startDownstream>[0], update: PolicyUpdate) =>
  startRpcPath(keep, model, update);

const noBreaker = { breaker: { enabled: false } };
const immediate = { backoff: { kind: 'none' } } as const;

describe('gateway → downstream over real HTTP', () => {
  it('answers 200 with the attempts it took, in the body and in x-attempts', async () => {
    const { rpc, downstreamCalls } = await rpcPath({}, {});
    const response = await rpc('one');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: 'one', attempts: 1 });
    expect(response.headers['x-attempts']).toBe('1');
    expect(await downstreamCalls()).toBe(1);
  });

  it('retries exactly maxRetries times against a failing downstream', async () => {
    const { rpc, downstreamCalls, gateway } = await rpcPath(
      { failProbability: 1 },
      { ...noBreaker, ...immediate, maxRetries: 2 },
    );
    const response = await rpc('fails');
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({
      error: 'downstream_error',
      code: 'GW_ERR_DOWNSTREAM_5XX',
      attempts: 3,
    });
    expect(response.headers['x-attempts']).toBe('3');
    expect(await downstreamCalls()).toBe(3);
    expect(await scrape(gateway.url, 'gateway_retries_total')).toBe(2);
    expect(
      await scrape(gateway.url, 'gateway_downstream_attempts_total', {
        result: 'downstream_error',
      }),
    ).toBe(3);
  });

  async function rejectingDownstream() {
    const server = Fastify();
    const state = { calls: 0 };
    server.post('/work', async (_request, reply) => {
      state.calls += 1;
      return reply.code(422).send({ error: 'unprocessable' });
    });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    keep({ app: server, url });
    return { url, state };
  }

  it('never retries a 4xx from downstream', async () => {
    const rejecting = await rejectingDownstream();
    const gateway = await startGateway(rejecting.url, { maxRetries: 3 });
    keep(gateway);
    const response = await call(`${gateway.url}/rpc`, { body: { id: 'x' } });
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ error: 'downstream_rejected', attempts: 1 });
    expect(rejecting.state.calls).toBe(1);
  });

  it('does not count 4xx answers against the breaker', async () => {
    const rejecting = await rejectingDownstream();
    const gateway = await startGateway(rejecting.url, {
      maxRetries: 0,
      breaker: { windowSize: 5, failureThreshold: 2, rollingWindowMs: 10_000 },
    });
    keep(gateway);
    for (let i = 0; i < 20; i += 1) {
      expect((await call(`${gateway.url}/rpc`, { body: { id: `q${i}` } })).body.error).toBe(
        'downstream_rejected',
      );
    }
    expect(rejecting.state.calls).toBe(20);
    expect(await scrape(gateway.url, 'gateway_breaker_state')).toBe(0);
  });

  it('times out an attempt against a hang fault and aborts the call', async () => {
    const { rpc, addFault, downstream, gateway } = await rpcPath(
      {},
      { ...immediate, perAttemptTimeoutMs: 100, maxRetries: 1 },
    );
    await addFault({ kind: 'hang', durationMs: 10_000 });
    const response = await rpc('hangs');
    expect(response.status).toBe(504);
    expect(response.body).toMatchObject({
      error: 'timeout',
      code: 'GW_ERR_UPSTREAM_TIMEOUT',
      attempts: 2,
    });
    expect(await scrape(gateway.url, 'gateway_timeouts_total')).toBe(2);
    expect(
      await scrape(downstream.url, 'downstream_requests_total', { outcome: 'fault_hang' }),
    ).toBe(2);
    // The aborted requests closed their connections, which frees the hung handlers.
    await eventually(async () =>
      expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0),
    );
  });

  it('retries a reset connection as a connection error', async () => {
    const { rpc, addFault } = await rpcPath({}, { ...noBreaker, ...immediate, maxRetries: 2 });
    await addFault({ kind: 'reset', durationMs: 10_000 });
    const response = await rpc('reset');
    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({ error: 'connection_error', attempts: 3 });
  });

  it('opens the breaker under sustained failure, fails fast without calling downstream, half-opens and closes', async () => {
    const { rpc, addFault, downstream, gateway, downstreamCalls } = await rpcPath(
      {},
      {
        ...immediate,
        maxRetries: 0,
        // Open for 3 s: the fast fails below must all land while it is open, on a busy machine too.
        breaker: { windowSize: 10, failureThreshold: 5, openMs: 3000, rollingWindowMs: 60_000 },
      },
    );
    await addFault({ kind: 'error', durationMs: 60_000 });
    for (let i = 0; i < 10; i += 1)
      expect((await rpc(`f${i}`)).body.error).toBe('downstream_error');
    expect(await scrape(gateway.url, 'gateway_breaker_state')).toBe(2);

    const callsWhenOpened = await downstreamCalls();
    expect(callsWhenOpened).toBe(10);
    for (let i = 0; i < 5; i += 1) {
      const response = await rpc(`o${i}`);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'circuit_open', code: 'GW_ERR_CIRCUIT_OPEN' });
    }
    expect(await downstreamCalls()).toBe(callsWhenOpened);
    expect(await scrape(gateway.url, 'gateway_breaker_fast_fails_total')).toBe(5);

    await call(`${downstream.url}/admin/faults`, { method: 'DELETE' });
    await eventually(
      async () => expect(await scrape(gateway.url, 'gateway_breaker_state')).toBe(1),
      15_000,
    );
    expect((await rpc('trial')).status).toBe(200);
    expect(await scrape(gateway.url, 'gateway_breaker_state')).toBe(0);
    expect(await scrape(gateway.url, 'gateway_breaker_transitions_total', { to: 'open' })).toBe(1);
    expect(
      await scrape(gateway.url, 'gateway_breaker_transitions_total', { to: 'half_open' }),
    ).toBe(1);
    expect(await scrape(gateway.url, 'gateway_breaker_transitions_total', { to: 'closed' })).toBe(
      1,
    );
    expect(await downstreamCalls()).toBe(callsWhenOpened + 1);
  });

  it('lets maxConcurrent attempts through, queues maxQueue, and rejects the rest at once', async () => {
    const { gateway, rpc } = await rpcPath(
      // Each call holds its slot for 2 s: all six arrive while the first two are in flight.
      { baseLatencyMs: 2000 },
      { maxRetries: 0, perAttemptTimeoutMs: 20_000, bulkhead: { maxConcurrent: 2, maxQueue: 1 } },
    );
    const responses = Promise.all(Array.from({ length: 6 }, (_, i) => rpc(`b${i}`)));
    await eventually(async () => {
      expect(await scrape(gateway.url, 'gateway_bulkhead_in_use')).toBe(2);
      expect(await scrape(gateway.url, 'gateway_bulkhead_queued')).toBe(1);
    });
    const statuses = (await responses).map((response) => response.body.error ?? 'ok').sort();
    expect(statuses).toEqual(['bulkhead_full', 'bulkhead_full', 'bulkhead_full', 'ok', 'ok', 'ok']);
    expect(await scrape(gateway.url, 'gateway_bulkhead_rejected_total')).toBe(3);
  });

  it('caps retries at the retry budget ratio against a failing downstream', async () => {
    const requests = 40;
    const { rpc, gateway, downstreamCalls } = await rpcPath(
      { failProbability: 1 },
      {
        ...noBreaker,
        ...immediate,
        maxRetries: 3,
        retryBudget: { enabled: true, ratio: 0.2, minRetriesPerSecond: 0 },
      },
    );
    for (let i = 0; i < requests; i += 1) await rpc(`r${i}`);
    const retries = await scrape(gateway.url, 'gateway_retries_total');
    // Without the budget this would be 3 × 40 = 120.
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(0.2 * requests + 1);
    expect(
      await scrape(gateway.url, 'gateway_retries_denied_total', { reason: 'budget' }),
    ).toBeGreaterThan(0);
    expect(await downstreamCalls()).toBe(requests + retries);
  });

  it('rejects locally with adaptive throttling once accepts fall behind', async () => {
    const requests = 40;
    const { rpc, gateway, downstreamCalls } = await rpcPath(
      { failProbability: 1 },
      { ...noBreaker, maxRetries: 0, throttling: { enabled: true, k: 2 } },
    );
    let throttled = 0;
    for (let i = 0; i < requests; i += 1) {
      const response = await rpc(`t${i}`);
      if (response.body.error === 'throttled') {
        expect(response.status).toBe(503);
        throttled += 1;
      }
    }
    expect(throttled).toBeGreaterThan(requests / 2);
    expect(await downstreamCalls()).toBe(requests - throttled);
    expect(await scrape(gateway.url, 'gateway_throttled_total')).toBe(throttled);
    expect(await scrape(gateway.url, 'gateway_throttle_reject_probability')).toBeGreaterThan(0.5);
  });

  it('expires timed faults by themselves', async () => {
    const { rpc, addFault, downstream } = await rpcPath({}, { ...noBreaker, maxRetries: 0 });
    // 2 s: long enough for the two calls below on a busy machine, short enough to wait out.
    await addFault({ kind: 'error', durationMs: 2000 });
    expect((await rpc('during')).body.error).toBe('downstream_error');
    const faults = await call(`${downstream.url}/admin/faults`);
    expect(faults.body.faults).toMatchObject([{ kind: 'error', fraction: 1, durationMs: 2000 }]);
    await eventually(async () => expect((await rpc('after')).status).toBe(200), 15_000);
    expect((await call(`${downstream.url}/admin/faults`)).body.faults).toEqual([]);
  });

  it('adds latency with a latency fault', async () => {
    const { downstream, addFault } = await rpcPath({}, {});
    await addFault({ kind: 'latency', latencyMs: 60, durationMs: 10_000 });
    const response = await call(`${downstream.url}/work`, { body: { id: 'slow' } });
    expect(response.status).toBe(200);
    expect(response.body.latencyMs).toBeGreaterThanOrEqual(61);
  });
});
