import type { Dispatcher } from 'undici';
import type { Call, PolicyEvents } from './call.ts';
import { asGatewayError, GatewayError } from './errors.ts';

const headers = { 'content-type': 'application/json' };

/** One attempt: `POST /work {id}` on the pool, classified into a reply or a GatewayError. */
export function createTransport(dispatcher: Dispatcher, events: PolicyEvents): Call {
  return async (ctx) => {
    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    let statusCode: number;
    try {
      const response = await dispatcher.request({
        method: 'POST',
        path: '/work',
        headers,
        body: JSON.stringify({ id: ctx.id }),
        signal: ctx.signal,
      });
      statusCode = response.statusCode;
      await response.body.dump({ limit: 65_536 });
    } catch (error) {
      events.attempt(ctx.signal?.aborted ? 'timeout' : 'connection_error', seconds());
      throw ctx.signal?.aborted ? error : asGatewayError(error);
    }
    if (statusCode >= 500) {
      events.attempt('downstream_error', seconds());
      throw new GatewayError('downstream_error', `downstream answered ${statusCode}`);
    }
    if (statusCode >= 400) {
      events.attempt('downstream_rejected', seconds());
      throw new GatewayError(
        'downstream_rejected',
        `downstream rejected the request with ${statusCode}`,
      );
    }
    events.attempt('ok', seconds());
    return { statusCode };
  };
}
