import type { Dispatcher } from 'undici';
import { forwardedHeaders } from '../shared/forward.ts';
import type { Call, PolicyEvents } from './call.ts';
import { asGatewayError, GatewayError } from './errors.ts';

/** `5xx,429`: status classes and codes. */
export const failureStatusesPattern = '^([1-5]xx|[1-5][0-9][0-9])(,([1-5]xx|[1-5][0-9][0-9]))*$';

/** Which upstream statuses a forwarded call counts as failed (retried, against the breaker). */
export function failureStatuses(spec: string): (status: number) => boolean {
  const classes = new Set<number>();
  const codes = new Set<number>();
  for (const item of spec.split(',')) {
    if (item.endsWith('xx')) classes.add(Number(item[0]));
    else codes.add(Number(item));
  }
  return (status) => codes.has(status) || classes.has(Math.floor(status / 100));
}

/** A failing answer's body is kept to be passed on if no retry is left; this much of it. */
const keptFailureBodyBytes = 1 << 20;

/**
 * One attempt of a forwarded request (`ctx.request`) to the upstream. A status that
 * `isFailure` counts is thrown as a GatewayError carrying the answer (503 with
 * Retry-After as overloaded: not retried now, as for `/rpc`); any other answer, the
 * upstream's 4xx included, is the call's reply, its body streamed on.
 */
export function createForwardTransport(
  dispatcher: Dispatcher,
  events: PolicyEvents,
  isFailure: (status: number) => boolean,
): Call {
  return async (ctx) => {
    const request = ctx.request;
    if (!request) throw new Error('a forwarded call needs its request');
    const startedAt = performance.now();
    const aborter = new AbortController();
    ctx.cancellation?.bind(() => aborter.abort());
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        signal: aborter.signal,
      });
    } catch (error) {
      const seconds = (performance.now() - startedAt) / 1000;
      events.attempt(ctx.cancellation?.cancelled ? 'timeout' : 'connection_error', seconds);
      // The timeout layer turns a cancelled attempt into GW_ERR_UPSTREAM_TIMEOUT.
      throw ctx.cancellation?.cancelled ? error : asGatewayError(error);
    }
    const status = response.statusCode;
    const headers = forwardedHeaders(response.headers);
    if (!isFailure(status)) {
      events.attempt(
        status < 400 ? 'ok' : 'downstream_rejected',
        (performance.now() - startedAt) / 1000,
      );
      return { statusCode: status, headers, body: response.body };
    }
    // A failure: its whole answer is read (so the connection is free again) and kept.
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (kept < keptFailureBodyBytes) chunks.push(chunk);
      kept += chunk.length;
    }
    const reply = { statusCode: status, headers, body: Buffer.concat(chunks) };
    const overloaded = status === 503 && response.headers['retry-after'] !== undefined;
    events.attempt(
      overloaded ? 'overloaded' : 'downstream_error',
      (performance.now() - startedAt) / 1000,
    );
    throw overloaded
      ? new GatewayError(
          'downstream_overloaded',
          'the upstream is overloaded (503 with Retry-After): not retried now',
          { reply },
        )
      : new GatewayError('downstream_error', `the upstream answered ${status}`, { reply });
  };
}
