import { poll } from '../../services/shared/poll.ts';
import { call } from './http-json.ts';

export type CountField = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'deadLettered';

/** The producer's `GET /admin/queue`: the topic's totals, and each subscriber's. */
export type QueueCounts = Record<CountField, number> & {
  subscribers?: Array<Record<CountField, number> & { name: string | null; queue: string }>;
};

/** The producer's queue counts, or null when it does not answer them (Redis away, producer down). */
export async function readQueueCounts(
  producerUrl: string,
  adminToken?: string,
): Promise<QueueCounts | null> {
  const response = await call(`${producerUrl}/admin/queue`, 'GET', undefined, adminToken).catch(
    () => null,
  );
  return response?.status === 200 ? (response.body as QueueCounts) : null;
}

/** Jobs still to be processed: waiting + active + delayed. */
export const queueDepth = (counts: QueueCounts): number =>
  counts.waiting + counts.active + counts.delayed;

/** Nothing left to process, and nothing failed that has yet to reach the dead-letter queue. */
export const isDrained = (counts: QueueCounts): boolean =>
  queueDepth(counts) === 0 && counts.failed === 0;

export interface DrainOptions {
  timeoutMs: number;
  adminToken?: string | undefined;
  /** A further condition, e.g. that so many jobs have finished. */
  until?: (counts: QueueCounts) => boolean;
  /** @defaultValue 100 */
  pollMs?: number;
}

/**
 * Polls the producer until its queue is drained (and `until` holds); answers the
 * counts then, or throws after `timeoutMs` with the last counts it saw.
 */
export async function waitForDrain(
  producerUrl: string,
  options: DrainOptions,
): Promise<QueueCounts> {
  const { value, done } = await poll(
    () => readQueueCounts(producerUrl, options.adminToken),
    (counts) => counts !== null && isDrained(counts) && (options.until?.(counts) ?? true),
    { timeoutMs: options.timeoutMs, everyMs: options.pollMs ?? 100 },
  );
  if (done && value) return value;
  throw new DrainTimeoutError(producerUrl, options.timeoutMs, value);
}

export class DrainTimeoutError extends Error {
  readonly counts: QueueCounts | null;
  constructor(producerUrl: string, timeoutMs: number, counts: QueueCounts | null) {
    super(
      `the event queue at ${producerUrl} did not drain within ${timeoutMs / 1000} s (last counts: ${counts ? JSON.stringify(counts) : 'none: the producer did not answer'}); is a worker running?`,
    );
    this.name = 'DrainTimeoutError';
    this.counts = counts;
  }
}
