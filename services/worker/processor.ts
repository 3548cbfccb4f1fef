import { type Job, UnrecoverableError } from 'bullmq';
import type { Dispatcher } from 'undici';
import { Cancellation } from '../shared/cancellation.ts';
import { type AttemptResult, type PoolOccupancy, postWork } from '../shared/downstream-work.ts';
import type { EventJobData } from '../shared/event-job.ts';
import type { WorkerPolicy } from './config.ts';
import type { HeldLock, KeyLocks } from './key-lock.ts';

export interface ProcessorEvents {
  /** One downstream call; `serviceSeconds` is the downstream's own share, when it said. */
  attempt(result: AttemptResult, seconds: number, serviceSeconds?: number): void;
  completed(endToEndSeconds: number): void;
  active(delta: 1 | -1): void;
  keyLock(outcome: 'acquired' | 'busy'): void;
}

/**
 * One attempt of one job: `POST /work {id}` with a per-attempt timeout that aborts
 * the request. A failure throws, so BullMQ retries with the job's backoff; a 4xx
 * throws UnrecoverableError (retrying cannot help) and goes straight to the DLQ,
 * except a 409 (the same event still in progress elsewhere), which is retried.
 */
export function createProcessor(
  dispatcher: Dispatcher,
  policy: () => Pick<WorkerPolicy, 'perAttemptTimeoutMs' | 'lockPerKey'>,
  events: ProcessorEvents,
  {
    caller,
    keyPrefix,
    occupancy,
    locks,
  }: { caller: string; keyPrefix: string; occupancy?: PoolOccupancy; locks?: KeyLocks },
): (job: Job<EventJobData>) => Promise<{ statusCode: number }> {
  return async (job) => {
    const { perAttemptTimeoutMs: limitMs, lockPerKey } = policy();
    // One key per event and consumer, the same for every attempt and redelivery.
    const idempotencyKey = `${keyPrefix}/${job.data.id}`;
    let lock: HeldLock | undefined;
    if (lockPerKey && locks) {
      // Held a little past the attempt's timeout, renewed while held: a dead holder's lapses.
      lock = await locks.acquire(idempotencyKey, Math.max(1000, 2 * limitMs));
      events.keyLock(lock ? 'acquired' : 'busy');
      if (!lock) throw new Error('locked: another worker is working on this event; retry later');
    }
    const { cancellation, clear } = Cancellation.after(limitMs);
    events.active(1);
    try {
      const attempt = await postWork(dispatcher, job.data.id, {
        caller,
        idempotencyKey,
        cancellation,
        occupancy,
      });
      events.attempt(attempt.result, attempt.seconds, attempt.serviceSeconds);
      switch (attempt.result) {
        case 'timeout':
          throw new Error(`timeout: no answer within ${limitMs} ms`, { cause: attempt.error });
        case 'connection_error':
          throw new Error(`connection_error: ${(attempt.error as Error).message}`, {
            cause: attempt.error,
          });
        case 'downstream_error':
          throw new Error(`downstream_error: downstream answered ${attempt.statusCode}`);
        case 'overloaded':
          // The downstream sheds load: the job's backoff is the "later" it asks for.
          throw new Error(`overloaded: downstream answered 503 with Retry-After`);
        case 'deadline_exceeded':
          throw new Error('deadline_exceeded: the downstream dropped the call at its deadline');
        case 'in_progress':
          // Another delivery of this event is being worked on: retry later, never dead-letter.
          throw new Error('in_progress: the downstream is still working on this event (409)');
        case 'conflict':
          throw new Error('conflict: the write lost to another on its contended key (409)');
        case 'downstream_rejected':
          throw new UnrecoverableError(
            `downstream_rejected: downstream answered ${attempt.statusCode}`,
          );
      }
      events.completed(Math.max(0, Date.now() - job.data.publishedAt) / 1000);
      return { statusCode: attempt.statusCode ?? 200 };
    } finally {
      clear();
      events.active(-1);
      await lock?.release();
    }
  };
}
