/** Redis did not answer in time, or cannot be reached. */
export class Unavailable extends Error {}

/**
 * `promise`, or an Unavailable once `ms` have passed. The rejection waits one turn of the
 * event loop after the timer fires: after a stall of this process (CPU contention, a long GC)
 * the timer and Redis' answer are both due, and Node runs due timers before it reads sockets,
 * so without that turn an answer that came in time would be reported as a timeout (seen in
 * the compose stack on two cores: 503s for events that were queued).
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let turn: NodeJS.Immediate | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      turn = setImmediate(() => reject(new Unavailable(`Redis did not answer within ${ms} ms`)));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
    clearImmediate(turn);
  });
}
