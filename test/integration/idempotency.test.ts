import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { PolicyUpdate } from '../../services/gateway/policy.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { closeAfterEach, startDownstream, startGateway } from '../support/rpc-path.ts';

const { open, keep } = closeAfterEach();

/** Every attempt times out long before the downstream finishes: 3 attempts per request, no pause. */
const retriesAfterTimeouts: PolicyUpdate = {
  preset: 'unsafe',
  maxRetries: 2,
  perAttemptTimeoutMs: 100,
  backoff: { kind: 'none' },
};

async function slowPath(idempotentReceiver: boolean) {
  // 800 ms of work against a 100 ms timeout: each attempt is abandoned, the work goes on.
  const downstream = keep(
    await startDownstream({ baseLatencyMs: 800, jitterMs: 0, idempotentReceiver }),
  );
  const gateway = keep(await startGateway(downstream.url, retriesAfterTimeouts));
  const answers = await Promise.all(
    ['a', 'b', 'c', 'd'].map((id) => call(`${gateway.url}/rpc`, { body: { id } })),
  );
  // Wait until the downstream has finished (or refused) every call it got.
  await eventually(async () => {
    expect(await scrape(downstream.url, 'downstream_inflight_requests')).toBe(0);
    expect(await scrape(downstream.url, 'downstream_requests_total')).toBe(12);
  });
  return {
    answers,
    duplicates: await scrape(downstream.url, 'downstream_duplicate_effects_total'),
    outcome: (outcome: string) => scrape(downstream.url, 'downstream_requests_total', { outcome }),
  };
}

describe('idempotency keys: what retries do twice', () => {
  it('counts the work a retry after a timeout does again: 2 duplicate effects per request here', async () => {
    const { answers, duplicates, outcome } = await slowPath(false);
    expect(answers.map((answer) => answer.status)).toEqual([504, 504, 504, 504]);
    // 4 requests × 3 attempts, every one completed after its caller gave up.
    expect(await outcome('ok')).toBe(12);
    expect(duplicates).toBe(8);
  });

  it('does the work once per key with an idempotent receiver: repeats get 409 while in progress', async () => {
    const { duplicates, outcome } = await slowPath(true);
    expect(duplicates).toBe(0);
    expect(await outcome('ok')).toBe(4);
    expect(await outcome('in_progress')).toBe(8);
  });

  it('sends the client’s id as the Idempotency-Key of every attempt, and says who calls', async () => {
    const seen: Array<{ key: unknown; caller: unknown }> = [];
    const stub = Fastify();
    stub.post('/work', async (request, reply) => {
      seen.push({
        key: request.headers['idempotency-key'],
        caller: request.headers['x-cascade-caller'],
      });
      // Fail twice, then succeed: three attempts of one request.
      return seen.length < 3
        ? reply.code(503).send({ error: 'downstream_error', message: 'x' })
        : reply.send({ id: 'x', latencyMs: 0 });
    });
    const url = await stub.listen({ host: '127.0.0.1', port: 0 });
    open.push(stub);
    const gateway = keep(
      await startGateway(url, {
        maxRetries: 2,
        backoff: { kind: 'none' },
        breaker: { enabled: false },
      }),
    );
    const answer = await call(`${gateway.url}/rpc`, { body: { id: 'order-7' } });
    expect(answer.status).toBe(200);
    expect(seen).toEqual(Array.from({ length: 3 }, () => ({ key: 'order-7', caller: 'gateway' })));
  });

  it('aims a fault at one caller only: a fault for the workers leaves the gateway alone', async () => {
    const downstream = keep(await startDownstream());
    const gateway = keep(await startGateway(downstream.url, { maxRetries: 0 }));
    const fault = await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'error', durationMs: 60_000, caller: 'worker' }] },
    });
    expect(fault.status).toBe(200);
    expect((await call(`${gateway.url}/rpc`, { body: { id: 'fine' } })).status).toBe(200);
    const asWorker = await call(`${downstream.url}/work`, {
      body: { id: 'w' },
      headers: { 'x-cascade-caller': 'worker/billing' },
    });
    expect(asWorker.status).toBe(503);
  });
});
