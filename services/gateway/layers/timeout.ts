import { Cancellation } from '../../shared/cancellation.ts';
import type { Layer, PolicyEvents } from '../call.ts';
import { GatewayError } from '../errors.ts';

/** Aborts the attempt (the HTTP request itself) after `timeoutMs`. */
export function timeoutLayer(timeoutMs: number, events: PolicyEvents): Layer {
  return (next) => async (ctx) => {
    const { cancellation, clear } = Cancellation.after(timeoutMs);
    try {
      return await next({ id: ctx.id, state: ctx.state, request: ctx.request, cancellation });
    } catch (error) {
      if (!cancellation.cancelled) throw error;
      events.timeout();
      throw new GatewayError('timeout', `no answer from downstream within ${timeoutMs} ms`, {
        cause: error,
      });
    } finally {
      clear();
    }
  };
}
