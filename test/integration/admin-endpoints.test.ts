import { describe, expect, it } from 'vitest';
import type { PolicyUpdate } from '../../services/gateway/policy.ts';
import { call } from '../support/http.ts';
import { closeAfterEach, startDownstream, startRpcPath } from '../support/rpc-path.ts';

const { keep } = closeAfterEach();
const rpcPath = (model: Parameters<typeof startDownstream>[0], update: PolicyUpdate) =>
  startRpcPath(keep, model, update);

const noBreaker = { breaker: { enabled: false } };
const immediate = { backoff: { kind: 'none' } } as const;

describe('run-time changes through the admin endpoints', () => {
  it('applies PUT /admin/policy from the next request on', async () => {
    const { rpc, gateway } = await rpcPath(
      { failProbability: 1 },
      { ...noBreaker, ...immediate, maxRetries: 0 },
    );
    expect((await rpc('a')).body.attempts).toBe(1);
    const put = await call(`${gateway.url}/admin/policy`, {
      method: 'PUT',
      body: { maxRetries: 2 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ preset: 'custom', policy: { maxRetries: 2 } });
    expect((await rpc('b')).body.attempts).toBe(3);

    const unsafe = await call(`${gateway.url}/admin/policy`, {
      method: 'PUT',
      body: { preset: 'unsafe' },
    });
    expect(unsafe.body.preset).toBe('unsafe');
    expect((await call(`${gateway.url}/admin/policy`)).body).toMatchObject({
      preset: 'unsafe',
      policy: {
        breaker: { enabled: false },
        bulkhead: { enabled: false },
        backoff: { kind: 'none' },
      },
    });
    expect((await rpc('c')).body.attempts).toBe(4);
  });

  it('opens the connections POST /admin/warm asks for, as many as its pool holds, without work for the model', async () => {
    const { downstream, gateway, downstreamCalls } = await rpcPath({}, {});
    let connections = 0;
    downstream.app.server.on('connection', () => (connections += 1));
    const warm = (body: unknown) => call(`${gateway.url}/admin/warm`, { body });
    expect(await warm({ connections: 10 })).toMatchObject({
      status: 200,
      body: { downstream: 10, upstream: 0 },
    });
    expect(connections).toBe(10);
    // The pool keeps them: 10 again opens none; past its size (64 here) it stops there.
    await warm({ connections: 10 });
    expect(connections).toBe(10);
    expect((await warm({ connections: 500 })).body).toEqual({ downstream: 64, upstream: 0 });
    expect(connections).toBe(64);
    expect(await downstreamCalls()).toBe(0);
    for (const bad of [{}, { connections: 0 }, { connections: '3' }, { connections: 3, x: 1 }])
      expect((await warm(bad)).status).toBe(400);
  });

  it('changes the failure model at run time with a partial update', async () => {
    const { downstream, rpc } = await rpcPath({}, { ...noBreaker, maxRetries: 0 });
    const put = await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { model: { failProbability: 1 } },
    });
    expect(put.body.model).toMatchObject({ failProbability: 1, capacityRps: 250 });
    expect((await rpc('m')).body.error).toBe('downstream_error');
    const reset = await call(`${downstream.url}/admin/faults`, { method: 'DELETE' });
    expect(reset.body.model).toMatchObject({ failProbability: 0 });
    expect((await rpc('n')).status).toBe(200);
  });

  it('keeps every field a partial update leaves out, on both admin endpoints', async () => {
    const { gateway, downstream } = await rpcPath({}, {});
    const policy = (body: unknown) => call(`${gateway.url}/admin/policy`, { method: 'PUT', body });
    await policy({ perAttemptTimeoutMs: 300, backoff: { capMs: 900 } });
    const after = await policy({ maxRetries: 1, backoff: { jitter: 'equal' } });
    expect(after.body.policy).toMatchObject({
      perAttemptTimeoutMs: 300,
      maxRetries: 1,
      backoff: { kind: 'exponential', baseMs: 20, capMs: 900, jitter: 'equal' },
    });

    const faults = (body: unknown) =>
      call(`${downstream.url}/admin/faults`, { method: 'PUT', body });
    await faults({ model: { capacityRps: 100, baseLatencyMs: 3 } });
    const model = await faults({ model: { failProbability: 0.5 } });
    expect(model.body.model).toMatchObject({
      capacityRps: 100,
      baseLatencyMs: 3,
      failProbability: 0.5,
    });
  });
});
