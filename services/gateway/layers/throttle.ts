import type { Rng } from '../../shared/rng.ts';
import type { AdaptiveThrottle } from '../adaptive-throttle.ts';
import type { Layer, PolicyEvents } from '../call.ts';
import { GatewayError } from '../errors.ts';

/** Rejects attempts locally as the downstream's accept rate falls; a 4xx still counts as accepted. */
export function throttleLayer(throttle: AdaptiveThrottle, rng: Rng, events: PolicyEvents): Layer {
  return (next) => async (ctx) => {
    if (throttle.shouldReject(rng)) {
      events.throttled();
      const percent = Math.round(throttle.rejectProbability() * 100);
      throw new GatewayError(
        'throttled',
        `rejected locally by adaptive throttling (p≈${percent} %)`,
      );
    }
    try {
      const reply = await next(ctx);
      throttle.recordAccept();
      return reply;
    } catch (error) {
      if (error instanceof GatewayError && error.kind === 'downstream_rejected')
        throttle.recordAccept();
      throw error;
    }
  };
}
