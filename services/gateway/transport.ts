import type { Dispatcher } from 'undici';
import { type PoolOccupancy, postWork } from '../shared/downstream-work.ts';
import type { Call, PolicyEvents } from './call.ts';
import { asGatewayError, GatewayError } from './errors.ts';

/** One attempt: `POST /work {id}` on the pool, turned into a reply or a GatewayError. */
export function createTransport(
  dispatcher: Dispatcher,
  events: PolicyEvents,
  occupancy?: PoolOccupancy,
): Call {
  return async (ctx) => {
    const attempt = await postWork(dispatcher, ctx.id, ctx.cancellation, occupancy);
    events.attempt(attempt.result, attempt.seconds, attempt.serviceSeconds);
    switch (attempt.result) {
      case 'ok':
        return { statusCode: attempt.statusCode ?? 200 };
      case 'downstream_error':
        throw new GatewayError('downstream_error', `downstream answered ${attempt.statusCode}`);
      case 'downstream_rejected':
        throw new GatewayError(
          'downstream_rejected',
          `downstream rejected the request with ${attempt.statusCode}`,
        );
      case 'timeout':
        // The timeout layer turns the abort into GW_ERR_UPSTREAM_TIMEOUT.
        throw attempt.error;
      case 'connection_error':
        throw asGatewayError(attempt.error);
    }
  };
}
