import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  /** How long to keep reading; the first read always happens. */
  timeoutMs: number;
  /** @defaultValue 100 */
  everyMs?: number;
}

export interface Polled<T> {
  /** The last value read. */
  value: T;
  /** Whether `done` held for it (false: the time ran out first). */
  done: boolean;
}

/**
 * Reads until `done` holds for what was read or the time runs out, and answers the last
 * value and which of the two ended it. A read that throws ends the poll with its error:
 * callers that want to keep trying through errors turn them into values. The one poll
 * loop of the project: waits on queues, stacks, Redis, Prometheus and parts go through it.
 */
export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: PollOptions,
): Promise<Polled<T>> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return { value, done: true };
    if (performance.now() >= deadline) return { value, done: false };
    await sleep(options.everyMs ?? 100);
  }
}
