import type { Dispatcher, Pool } from 'undici';

export const attemptResults = [
  'ok',
  'downstream_error',
  'downstream_rejected',
  'connection_error',
  'timeout',
] as const;
/** How one downstream call ended: 2xx, 5xx, 4xx, no connection, or aborted by the caller's timeout. */
export type AttemptResult = (typeof attemptResults)[number];

export interface WorkAttempt {
  result: AttemptResult;
  statusCode?: number;
  seconds: number;
  /**
   * The downstream's own time for it (its `Server-Timing: work;dur=<ms>`), when it answered
   * and the call found a free connection: time queued for one of the pool's connections is
   * the caller's own queue, not the host's overhead.
   */
  serviceSeconds?: number;
  /** What was thrown, for `connection_error` and `timeout`. */
  error?: unknown;
}

const headers = { 'content-type': 'application/json' };

/** The `work` metric's duration of a `Server-Timing` header, in seconds. */
export function serverTimingSeconds(header: string | string[] | undefined): number | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  const match =
    text === undefined ? null : /(?:^|,)\s*work\s*;(?:[^,]*;)?\s*dur=([\d.]+)/.exec(text);
  return match ? Number(match[1]) / 1000 : undefined;
}

/**
 * One `POST /work {id}` on the dispatcher, classified. Never throws: the gateway and
 * the worker each turn the result into their own errors.
 */
export async function postWork(
  dispatcher: Dispatcher,
  id: string,
  signal?: AbortSignal,
): Promise<WorkAttempt> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  try {
    const pending = dispatcher.request({
      method: 'POST',
      path: '/work',
      headers,
      body: JSON.stringify({ id }),
      signal,
    });
    // A pool queues a request synchronously when every connection is busy.
    const queuedForConnection = ((dispatcher as Partial<Pool>).stats?.queued ?? 0) > 0;
    const response = await pending;
    await response.body.dump({ limit: 65_536 });
    const { statusCode } = response;
    const result =
      statusCode >= 500 ? 'downstream_error' : statusCode >= 400 ? 'downstream_rejected' : 'ok';
    const serviceSeconds = queuedForConnection
      ? undefined
      : serverTimingSeconds(response.headers['server-timing']);
    return {
      result,
      statusCode,
      seconds: seconds(),
      ...(serviceSeconds === undefined ? {} : { serviceSeconds }),
    };
  } catch (error) {
    return { result: signal?.aborted ? 'timeout' : 'connection_error', error, seconds: seconds() };
  }
}
