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
    // The client's request id is the key: every retry of it is the same piece of work.
    const attempt = await postWork(dispatcher, ctx.id, {
      caller: 'gateway',
      idempotencyKey: ctx.id,
      cancellation: ctx.cancellation,
      occupancy,
    });
    events.attempt(attempt.result, attempt.seconds, attempt.serviceSeconds);
    switch (attempt.result) {
      case 'ok':
        return { statusCode: attempt.statusCode ?? 200 };
      case 'downstream_error':
        throw new GatewayError('downstream_error', `downstream answered ${attempt.statusCode}`);
      case 'overloaded':
        throw new GatewayError(
          'downstream_overloaded',
          'the downstream is overloaded (503 with Retry-After): not retried now',
        );
      case 'deadline_exceeded':
        throw new GatewayError(
          'deadline_exceeded',
          "the downstream dropped the call at this attempt's deadline (504)",
        );
      case 'in_progress':
        throw new GatewayError(
          'downstream_busy',
          'the downstream is still working on this request id (409); a retry may find it done',
        );
      case 'conflict':
        throw new GatewayError(
          'downstream_conflict',
          'the write lost to another on its contended key (409 conflict); a retry may win',
        );
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
