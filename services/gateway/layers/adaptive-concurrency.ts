import { type Static, Type } from 'typebox';
import { AdaptiveLimit } from '../adaptive-limit.ts';
import type { Layer } from '../call.ts';
import { asGatewayError, GatewayError } from '../errors.ts';

export const AdaptiveConcurrencyPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    initialLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 20 }),
    minLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 2 }),
    maxLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 200 }),
    /** 0–1: how far each completed attempt moves the limit. */
    smoothing: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.2 }),
  },
  { additionalProperties: false },
);
export type AdaptiveConcurrencyPolicy = Static<typeof AdaptiveConcurrencyPolicy>;

/** An attempt that says the downstream is past its capacity: the limit comes down. */
const dropKinds = new Set(['timeout', 'downstream_overloaded', 'deadline_exceeded']);

/**
 * Attempts beyond the learnt limit are rejected at once (`concurrency_limited`); every
 * attempt that ends teaches the limit its round trip, or that it was dropped.
 */
export function adaptiveConcurrencyLayer(limiter: AdaptiveLimit): Layer & { inflight(): number } {
  let inflight = 0;
  const layer: Layer = (next) => async (ctx) => {
    if (inflight >= limiter.limit)
      throw new GatewayError(
        'concurrency_limited',
        `adaptive concurrency limit ${limiter.limit} reached (${inflight} attempts in flight)`,
      );
    inflight += 1;
    const sentWith = inflight;
    const startedAt = performance.now();
    let dropped = false;
    try {
      return await next(ctx);
    } catch (error) {
      dropped = dropKinds.has(asGatewayError(error).kind);
      throw error;
    } finally {
      inflight -= 1;
      limiter.update({ rttMs: performance.now() - startedAt, inflight: sentWith, dropped });
    }
  };
  return Object.assign(layer, { inflight: () => inflight });
}

export const limiterFor = (policy: AdaptiveConcurrencyPolicy) =>
  new AdaptiveLimit({
    initialLimit: policy.initialLimit,
    minLimit: Math.min(policy.minLimit, policy.maxLimit),
    maxLimit: policy.maxLimit,
    smoothing: policy.smoothing,
  });
