import { type Job, UnrecoverableError } from 'bullmq';
import type { Dispatcher } from 'undici';
import type { EventJobData } from '../shared/event-job.ts';

export type AttemptResult =
  'ok' | 'downstream_error' | 'downstream_rejected' | 'connection_error' | 'timeout';

export interface ProcessorEvents {
  attempt(result: AttemptResult, seconds: number): void;
  completed(endToEndSeconds: number): void;
  active(delta: 1 | -1): void;
}

/**
 * One attempt of one job: `POST /work {id}` with a per-attempt timeout that aborts
 * the request. A failure throws, so BullMQ retries with the job's backoff; a 4xx
 * throws UnrecoverableError (retrying cannot help) and goes straight to the DLQ.
 */
export function createProcessor(
  dispatcher: Dispatcher,
  timeoutMs: () => number,
  events: ProcessorEvents,
): (job: Job<EventJobData>) => Promise<{ statusCode: number }> {
  return async (job) => {
    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    const limitMs = timeoutMs();
    const signal = AbortSignal.timeout(limitMs);
    events.active(1);
    try {
      let statusCode: number;
      try {
        const response = await dispatcher.request({
          method: 'POST',
          path: '/work',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: job.data.id }),
          signal,
        });
        statusCode = response.statusCode;
        await response.body.dump({ limit: 65_536 });
      } catch (error) {
        const result = signal.aborted ? 'timeout' : 'connection_error';
        events.attempt(result, seconds());
        throw new Error(
          signal.aborted
            ? `timeout: no answer within ${limitMs} ms`
            : `connection_error: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (statusCode >= 500) {
        events.attempt('downstream_error', seconds());
        throw new Error(`downstream_error: downstream answered ${statusCode}`);
      }
      if (statusCode >= 400) {
        events.attempt('downstream_rejected', seconds());
        throw new UnrecoverableError(`downstream_rejected: downstream answered ${statusCode}`);
      }
      events.attempt('ok', seconds());
      events.completed(Math.max(0, Date.now() - job.data.publishedAt) / 1000);
      return { statusCode };
    } finally {
      events.active(-1);
    }
  };
}
