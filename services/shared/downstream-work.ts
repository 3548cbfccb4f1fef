import type { Dispatcher } from 'undici';
import type { Cancellation } from './cancellation.ts';

export const attemptResults = [
  'ok',
  'downstream_error',
  'downstream_rejected',
  'in_progress',
  'conflict',
  'overloaded',
  'deadline_exceeded',
  'connection_error',
  'timeout',
] as const;
/**
 * How one downstream call ended: 2xx, 5xx, 4xx, 409 (an idempotent downstream still
 * working on the same key: worth retrying later), 409 conflict (a write that lost to another
 * on a contended key: worth retrying), 503 with Retry-After (overloaded:
 * don't retry now), 504 (the downstream dropped it at the caller's deadline), no
 * connection, or aborted by the caller's timeout.
 */
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

/** Set on the downstream's 409 for a write that lost on a contended key (the in-progress 409 has none). */
export const conflictHeader = 'x-cascade-conflict';

/** The time, in whole ms, the caller is still willing to wait for this attempt. */
export const deadlineHeader = 'x-cascade-deadline-ms';

/** Who calls and for what: the downstream counts effects per key and aims faults by caller. */
export interface WorkCallOptions {
  /** `gateway`, or `worker/<subscriber>`: sent as `x-cascade-caller`. */
  caller: string;
  /** Sent as `Idempotency-Key`: the same for every retry or redelivery of one piece of work. */
  idempotencyKey: string;
  cancellation?: Cancellation | undefined;
  occupancy?: PoolOccupancy | undefined;
}

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

/** Why a call stopped before its answer: the caller's time was up. */
class CallCancelled extends Error {
  constructor() {
    super('the call was cancelled: its time was up');
    this.name = 'CallCancelled';
  }
}

/**
 * One call as undici's dispatch handler: the status and the `Server-Timing` header are
 * all it keeps; the body is discarded as it streams in. No response stream, no promise
 * per body: this is the gateway's hot path.
 */
class WorkCall implements Dispatcher.DispatchHandler {
  statusCode = 0;
  serverTiming: string | string[] | undefined;
  retryAfter: string | string[] | undefined;
  conflict = false;
  readonly #done: (error?: unknown) => void;
  readonly #cancellation: Cancellation | undefined;

  constructor(done: (error?: unknown) => void, cancellation: Cancellation | undefined) {
    this.#done = done;
    this.#cancellation = cancellation;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#cancellation?.bind(() => controller.abort(new CallCancelled()));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    responseHeaders: Record<string, string | string[] | undefined>,
  ): void {
    this.statusCode = statusCode;
    this.serverTiming = responseHeaders['server-timing'];
    this.retryAfter = responseHeaders['retry-after'];
    this.conflict = responseHeaders[conflictHeader] !== undefined;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.#done();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.#done(error);
  }
}

/**
 * One `POST /work {id}` on the dispatcher, classified. Never throws: the gateway and
 * the worker each turn the result into their own errors. A call cancelled while it
 * waits for a connection is never sent.
 */
export async function postWork(
  dispatcher: Dispatcher,
  id: string,
  { caller, idempotencyKey, cancellation, occupancy }: WorkCallOptions,
): Promise<WorkAttempt> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  const queuedForConnection =
    occupancy !== undefined && occupancy.inflight >= occupancy.connections;
  if (occupancy) occupancy.inflight += 1;
  let call: WorkCall | undefined;
  try {
    const error = await new Promise<unknown>((resolve) => {
      call = new WorkCall(resolve, cancellation);
      // How long the caller will still wait (as gRPC's grpc-timeout): a downstream that
      // honours deadlines stops work nobody waits for.
      const remainingMs = cancellation?.remainingMs();
      dispatcher.dispatch(
        {
          method: 'POST',
          path: '/work',
          headers: [
            'content-type',
            'application/json',
            'idempotency-key',
            idempotencyKey,
            'x-cascade-caller',
            caller,
            ...(remainingMs === undefined ? [] : [deadlineHeader, String(Math.floor(remainingMs))]),
          ],
          body: JSON.stringify({ id }),
        },
        call,
      );
    });
    if (error !== undefined)
      return {
        result: cancellation?.cancelled ? 'timeout' : 'connection_error',
        error,
        seconds: seconds(),
      };
    const { statusCode } = call!;
    const result: AttemptResult =
      statusCode === 503 && call!.retryAfter !== undefined
        ? 'overloaded'
        : statusCode === 504
          ? 'deadline_exceeded'
          : statusCode >= 500
            ? 'downstream_error'
            : statusCode === 409
              ? call!.conflict
                ? 'conflict'
                : 'in_progress'
              : statusCode >= 400
                ? 'downstream_rejected'
                : 'ok';
    const serviceSeconds = queuedForConnection
      ? undefined
      : serverTimingSeconds(call!.serverTiming);
    return {
      result,
      statusCode,
      seconds: seconds(),
      ...(serviceSeconds === undefined ? {} : { serviceSeconds }),
    };
  } finally {
    if (occupancy) occupancy.inflight -= 1;
  }
}
