import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../../services/gateway/adaptive-limit.ts';
import { GatewayError } from '../../services/gateway/errors.ts';
import { adaptiveConcurrencyLayer } from '../../services/gateway/layers/adaptive-concurrency.ts';

const settings = { initialLimit: 20, minLimit: 2, maxLimit: 200, smoothing: 1 };

/** Feeds `n` samples at `rttMs` with the limiter kept busy (inflight = its limit). */
function feed(limiter: AdaptiveLimit, n: number, rttMs: number, dropped = false) {
  for (let i = 0; i < n; i++) limiter.update({ rttMs, inflight: limiter.limit, dropped });
  return limiter.limit;
}

describe('the adaptive concurrency limit (Vegas)', () => {
  it('rises while latency stays at its minimum, up to the ceiling', () => {
    const limiter = new AdaptiveLimit(settings);
    expect(feed(limiter, 5, 10)).toBeGreaterThan(20);
    expect(feed(limiter, 500, 10)).toBe(200);
    expect(limiter.minRttMs).toBe(10);
  });

  it('falls when latency grows (requests queue), and settles where they stop queueing', () => {
    const limiter = new AdaptiveLimit({ ...settings, initialLimit: 100 });
    feed(limiter, 1, 10);
    const high = feed(limiter, 50, 10);
    const loaded = feed(limiter, 50, 30);
    expect(loaded).toBeLessThan(high);
    // Back at the minimum: it rises again.
    expect(feed(limiter, 50, 10)).toBeGreaterThan(loaded);
  });

  it('lowers the limit on every dropped request, down to the floor', () => {
    const limiter = new AdaptiveLimit(settings);
    const before = limiter.limit;
    expect(feed(limiter, 1, 10, true)).toBeLessThan(before);
    expect(feed(limiter, 500, 10, true)).toBe(2);
  });

  it('leaves the limit alone while far fewer requests are in flight than it allows', () => {
    const limiter = new AdaptiveLimit(settings);
    limiter.update({ rttMs: 10, inflight: 2, dropped: false });
    expect(limiter.update({ rttMs: 500, inflight: 3, dropped: false })).toBe(20);
  });

  it('moves only part of the way with smoothing', () => {
    const smooth = new AdaptiveLimit({ ...settings, smoothing: 0.2 });
    const sharp = new AdaptiveLimit(settings);
    expect(feed(smooth, 1, 10, true)).toBeGreaterThan(feed(sharp, 1, 10, true));
  });

  it('stays within its floor and ceiling whatever the samples', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            rttMs: fc.double({ min: 0, max: 10_000, noNaN: true }),
            inflight: fc.integer({ min: 0, max: 1000 }),
            dropped: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (samples) => {
          const limiter = new AdaptiveLimit({ ...settings, smoothing: 0.5 });
          return samples.every((sample) => {
            const limit = limiter.update(sample);
            return Number.isInteger(limit) && limit >= 2 && limit <= 200;
          });
        },
      ),
    );
  });

  it('as a gateway layer, rejects attempts past the limit at once and learns from the rest', async () => {
    const limiter = new AdaptiveLimit({ initialLimit: 2, minLimit: 1, maxLimit: 10, smoothing: 1 });
    const layer = adaptiveConcurrencyLayer(limiter);
    const pending: Array<() => void> = [];
    const next = () =>
      new Promise<{ statusCode: number }>((resolve) =>
        pending.push(() => resolve({ statusCode: 200 })),
      );
    const call = layer(next);
    const state = { attempts: 0 };
    const first = call({ id: 'a', state });
    const second = call({ id: 'b', state });
    await expect(call({ id: 'c', state })).rejects.toMatchObject({ kind: 'concurrency_limited' });
    expect(layer.inflight()).toBe(2);
    for (const done of pending) done();
    await Promise.all([first, second]);
    expect(layer.inflight()).toBe(0);
    expect(limiter.minRttMs).toBeLessThan(Number.POSITIVE_INFINITY);
    // A timed-out attempt brings the limit down.
    const failing = adaptiveConcurrencyLayer(limiter)(async () => {
      throw new GatewayError('timeout', 'slow');
    });
    const before = limiter.limit;
    await expect(failing({ id: 'd', state })).rejects.toMatchObject({ kind: 'timeout' });
    expect(limiter.limit).toBeLessThan(before);
  });
});
