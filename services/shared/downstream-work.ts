import type { Dispatcher } from 'undici';

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
 * A caller's calls in flight on its pool of `connections` (pipelining 1): a call beyond
 * them waits for a connection. A counter, so no per-call look into the pool is needed.
 */
export class PoolOccupancy {
  inflight = 0;
  readonly connections: number;

  constructor(connections: number) {
    this.connections = connections;
  }
}

/**
 * One `POST /work {id}` on the dispatcher, classified. Never throws: the gateway and
 * the worker each turn the result into their own errors.
 */
export async function postWork(
  dispatcher: Dispatcher,
  id: string,
  signal?: AbortSignal,
  occupancy?: PoolOccupancy,
): Promise<WorkAttempt> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const queuedForConnection =
    occupancy !== undefined && occupancy.inflight >= occupancy.connections;
  if (occupancy) occupancy.inflight += 1;
  try {
    const response = await dispatcher.request({
      method: 'POST',
      path: '/work',
      headers,
      body: JSON.stringify({ id }),
      signal,
    });
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
  } finally {
    if (occupancy) occupancy.inflight -= 1;
  }
}
