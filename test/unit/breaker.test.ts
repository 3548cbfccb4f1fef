import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallContext, PolicyEvents } from '../../services/gateway/call.ts';
import { GatewayError } from '../../services/gateway/errors.ts';
import { BreakerPolicy, createBreaker } from '../../services/gateway/layers/breaker.ts';
import { planRun } from '../../load/experiment/time-scale.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { defaultsOf } from '../../services/shared/schemas.ts';
import { bases } from './time-scale-fixtures.ts';

const events = (): PolicyEvents & { opened: number } => {
  const counted = {
    opened: 0,
    attempt: () => undefined,
    retry: () => undefined,
    retryDenied: () => undefined,
    timeout: () => undefined,
    breakerTransition: (to: string) => void (to === 'open' && (counted.opened += 1)),
    breakerFastFail: () => undefined,
    bulkheadRejected: () => undefined,
    throttled: () => undefined,
  };
  return counted;
};

const ctx = (id: string): CallContext => ({ id, state: { attempts: 0 } });
const failing = () => Promise.reject(new GatewayError('downstream_error', 'failed'));
const ok = () => Promise.resolve({ statusCode: 200 });

/**
 * The breaker as it works (opossum): it opens when, over the last `rollingWindowMs`, the
 * window holds at least `windowSize` calls and at least failureThreshold / windowSize of
 * them failed. A window, not "the last 20 calls": at a lower rate it does not open at all.
 */
describe('the circuit breaker (opossum, over a rolling time window)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const policy: BreakerPolicy = defaultsOf(BreakerPolicy);

  async function calls(pattern: boolean[], gapMs: number) {
    const counted = events();
    const breaker = createBreaker(policy, counted);
    const call = breaker.layer((c) => (pattern[Number(c.id)] ? failing() : ok()));
    for (const [i] of pattern.entries()) {
      await call(ctx(String(i))).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(gapMs);
    }
    const state = breaker.state();
    breaker.shutdown();
    return { state, opened: counted.opened };
  }

  it('is the seed’s 8 of 20 with its defaults: 20 calls within a second, 8 of them failed, open it', async () => {
    expect(policy).toMatchObject({ windowSize: 20, failureThreshold: 8, rollingWindowMs: 1000 });
    const eightOfTwenty = Array.from({ length: 20 }, (_, i) => i >= 12);
    expect((await calls(eightOfTwenty, 10)).state).toBe('open');
    const sevenOfTwenty = Array.from({ length: 20 }, (_, i) => i >= 13);
    expect((await calls(sevenOfTwenty, 10)).state).toBe('closed');
  });

  it('never opens when the window holds fewer calls than windowSize, even if every one fails', async () => {
    // One call every 100 ms: about 10 in any second, under the 20 it needs.
    const allFail = Array.from({ length: 60 }, () => true);
    expect(await calls(allFail, 100)).toEqual({ state: 'closed', opened: 0 });
    // Twice as fast, the same calls open it.
    expect((await calls(allFail, 40)).opened).toBeGreaterThan(0);
  });

  it('stretches its window with the time scale, like every other time constant', () => {
    const scenario = parseScenario(`
name: scaled
load: { kind: constant, ratePerSecond: 50, durationMs: 2000 }
runs: [{ name: r, target: rpc, policy: { preset: safe } }]
`);
    expect(planRun(scenario, scenario.runs[0]!, 4, bases).gateway?.breaker).toMatchObject({
      windowSize: 20,
      failureThreshold: 8,
      openMs: 2000,
      rollingWindowMs: 4000,
    });
  });
});
