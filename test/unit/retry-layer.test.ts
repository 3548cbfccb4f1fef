import { describe, expect, it } from 'vitest';
import type { Call } from '../../services/gateway/call.ts';
import { GatewayError, type GatewayErrorKind } from '../../services/gateway/errors.ts';
import { retryLayer } from '../../services/gateway/layers/retry.ts';
import { WindowRetryBudget } from '../../services/gateway/retry-budget.ts';
import { recordingEvents } from '../support/policy-events.ts';

function failingWith(kind: GatewayErrorKind): Call & { calls: number } {
  const call = Object.assign(
    async () => {
      call.calls += 1;
      throw new GatewayError(kind, kind);
    },
    { calls: 0 },
  );
  return call;
}

const backoff = { kind: 'exponential', baseMs: 20, capMs: 400, jitter: 'none' } as const;

describe('retryLayer', () => {
  it.each(['downstream_overloaded', 'deadline_exceeded'] as const)(
    'takes the downstream at its word on %s: no retry now, unless the policy retries on overload',
    async (kind) => {
      for (const retryOnOverload of [false, true]) {
        const { events, seen } = recordingEvents();
        const next = failingWith(kind);
        const call = retryLayer({
          maxRetries: 2,
          retryOnOverload,
          backoff,
          rng: () => 0.5,
          events,
          isCircuitOpen: () => false,
          sleep: async () => undefined,
        })(next);
        await expect(call({ id: 'x', state: { attempts: 0 } })).rejects.toMatchObject({ kind });
        expect(next.calls, String(retryOnOverload)).toBe(retryOnOverload ? 3 : 1);
        expect(seen, String(retryOnOverload)).toEqual(
          retryOnOverload ? ['retry', 'retry'] : ['denied:overloaded'],
        );
      }
    },
  );

  it('retries a retryable failure exactly maxRetries times, sleeping the backoff between', async () => {
    const { events, seen } = recordingEvents();
    const slept: number[] = [];
    const next = failingWith('downstream_error');
    const call = retryLayer({
      maxRetries: 3,
      backoff,
      rng: () => 0.5,
      events,
      isCircuitOpen: () => false,
      sleep: async (ms) => slept.push(ms),
    })(next);
    const state = { attempts: 0 };
    await expect(call({ id: 'x', state })).rejects.toMatchObject({ kind: 'downstream_error' });
    expect(next.calls).toBe(4);
    expect(state.attempts).toBe(4);
    expect(seen).toEqual(['retry', 'retry', 'retry']);
    expect(slept).toEqual([20, 40, 80]);
  });

  it.each(['downstream_rejected', 'circuit_open', 'bulkhead_full', 'throttled'] as const)(
    'never retries %s',
    async (kind) => {
      const { events } = recordingEvents();
      const next = failingWith(kind);
      const call = retryLayer({
        maxRetries: 3,
        backoff,
        rng: Math.random,
        events,
        isCircuitOpen: () => false,
      })(next);
      await expect(call({ id: 'x', state: { attempts: 0 } })).rejects.toMatchObject({ kind });
      expect(next.calls).toBe(1);
    },
  );

  it('stops retrying while the breaker is open and returns the original error', async () => {
    const { events, seen } = recordingEvents();
    const next = failingWith('timeout');
    const call = retryLayer({
      maxRetries: 3,
      backoff,
      rng: Math.random,
      events,
      isCircuitOpen: () => true,
    })(next);
    await expect(call({ id: 'x', state: { attempts: 0 } })).rejects.toMatchObject({
      kind: 'timeout',
    });
    expect(next.calls).toBe(1);
    expect(seen).toEqual(['denied:circuit_open']);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const { events, seen } = recordingEvents();
    const budget = new WindowRetryBudget(
      {
        enabled: true,
        kind: 'window',
        minRetryConcurrency: 0,
        ratio: 1,
        minRetriesPerSecond: 0,
        windowMs: 10_000,
      },
      () => 0,
    );
    const next = failingWith('downstream_error');
    const call = retryLayer({
      maxRetries: 3,
      backoff: { ...backoff, kind: 'none' },
      rng: Math.random,
      events,
      budget,
      isCircuitOpen: () => false,
    })(next);
    await expect(call({ id: 'x', state: { attempts: 0 } })).rejects.toMatchObject({
      kind: 'downstream_error',
    });
    expect(next.calls).toBe(2);
    expect(seen).toEqual(['retry', 'denied:budget']);
  });

  it('treats unknown thrown errors as connection errors, which are retried', async () => {
    const { events } = recordingEvents();
    let calls = 0;
    const call = retryLayer({
      maxRetries: 1,
      backoff: { ...backoff, kind: 'none' },
      rng: Math.random,
      events,
      isCircuitOpen: () => false,
    })(async () => {
      calls += 1;
      throw new Error('ECONNREFUSED');
    });
    await expect(call({ id: 'x', state: { attempts: 0 } })).rejects.toMatchObject({
      kind: 'connection_error',
    });
    expect(calls).toBe(2);
  });
});
