import type { Layer, PolicyEvents } from '../call.ts';
import { GatewayError } from '../errors.ts';

/** Aborts the attempt (the HTTP request itself) after `timeoutMs`. */
export function timeoutLayer(timeoutMs: number, events: PolicyEvents): Layer {
  return (next) => async (ctx) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await next({ ...ctx, signal: controller.signal });
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      events.timeout();
      throw new GatewayError('timeout', `no answer from downstream within ${timeoutMs} ms`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  };
}
