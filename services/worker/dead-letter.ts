import { randomUUID } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { RedisClient } from '../shared/redis-connection.ts';
import {
  defaultProducerPolicy,
  type EventJobData,
  eventJobName,
  eventJobOptions,
} from '../shared/event-job.ts';

/** Why and when a job was dead-lettered; kept next to the original data. */
export interface DeadLetterMeta {
  reason: string;
  attemptsMade: number;
  stalledCounter: number;
  /** When the producer first accepted it (epoch ms). */
  acceptedAt: number;
  failedAt: number;
  movedAt: number;
  /** The attempts and retention it had, reused by a redrive. */
  attempts: number;
  keepCompleted: number;
}

export type DeadLetterData = EventJobData & { deadLetter: DeadLetterMeta };

export interface DeadLetterEntry {
  id: string;
  reason: string;
  attemptsMade: number;
  failedAt: number;
  movedAt: number;
}

export type JobState = Awaited<ReturnType<Job['getState']>>;

function keepCompletedOf(job: Job<EventJobData>): number {
  const option = job.opts.removeOnComplete;
  return typeof option === 'object' && option !== null && typeof option.count === 'number'
    ? option.count
    : defaultProducerPolicy.keepCompleted;
}

/**
 * The dead-letter queue `<queue>-dlq`: a BullMQ queue nobody consumes. A job that
 * failed finally (attempts exhausted, stalled too often, or an unrecoverable error)
 * is copied there under the same id, then removed from the main queue — in that
 * order, so a crash in between leaves it in the main queue's failed set, where the
 * sweeper finds it. Adding an id that exists is a no-op, so the move is idempotent.
 */
export class DeadLetterQueue {
  readonly main: Queue<EventJobData>;
  readonly dlq: Queue<DeadLetterData>;

  constructor(main: Queue<EventJobData>, dlq: Queue<DeadLetterData>) {
    this.main = main;
    this.dlq = dlq;
  }

  /**
   * Moves the job if it is in the failed set. Answers `failed` only to the one
   * caller that moved it — the failed-event handler and a sweeper (of this or
   * another worker) may race — `moved-elsewhere` to the others, else the state found.
   */
  async moveIfFinallyFailed(jobId: string): Promise<JobState | 'missing' | 'moved-elsewhere'> {
    const job = await this.main.getJob(jobId);
    if (job === undefined) return 'missing';
    const state = await job.getState();
    if (state !== 'failed') return state;
    const deadLetter: DeadLetterMeta = {
      reason: job.failedReason ?? 'unknown',
      attemptsMade: job.attemptsMade,
      stalledCounter: job.stalledCounter ?? 0,
      acceptedAt: job.timestamp,
      failedAt: job.finishedOn ?? Date.now(),
      movedAt: Date.now(),
      attempts: job.opts.attempts ?? 1,
      keepCompleted: keepCompletedOf(job),
    };
    await this.dlq.add(
      eventJobName,
      { ...job.data, deadLetter },
      { jobId, removeOnComplete: true },
    );
    // The add is idempotent; an atomic claim on the DLQ job says which racer moved it.
    // BullMQ types its client narrowly; it is the ioredis client we gave it.
    const client = (await this.dlq.client) as unknown as RedisClient;
    const claimed = await client.hsetnx(this.dlq.toKey(jobId), 'cascadeMovedBy', randomUUID());
    await job.remove().catch((error: unknown) => {
      if (claimed === 1) throw error;
    });
    return claimed === 1 ? 'failed' : 'moved-elsewhere';
  }

  /** Moves every job in the failed set (those whose move a crash interrupted); answers how many. */
  async sweep(pageSize = 500): Promise<number> {
    let moved = 0;
    const total = await this.main.getFailedCount();
    for (let seen = 0; seen < total; seen += pageSize) {
      const page = await this.main.getFailed(0, pageSize - 1);
      if (page.length === 0) break;
      for (const job of page) {
        if (job.id !== undefined && (await this.moveIfFinallyFailed(job.id)) === 'failed')
          moved += 1;
      }
    }
    return moved;
  }

  async count(): Promise<number> {
    return this.dlq.getWaitingCount();
  }

  async list(limit = 50): Promise<DeadLetterEntry[]> {
    const jobs = await this.dlq.getWaiting(0, limit - 1);
    return jobs.map((job) => ({
      id: String(job.id),
      reason: job.data.deadLetter.reason,
      attemptsMade: job.data.deadLetter.attemptsMade,
      failedAt: job.data.deadLetter.failedAt,
      movedAt: job.data.deadLetter.movedAt,
    }));
  }

  /**
   * Puts dead-lettered jobs back on the main queue with fresh attempts, then
   * removes them from the DLQ (a crash in between redrives them twice at worst:
   * the main queue ignores an id it already holds). Answers the ids redriven.
   */
  async redrive(options: { ids?: string[]; dryRun?: boolean }): Promise<string[]> {
    const jobs =
      options.ids === undefined
        ? await this.dlq.getWaiting(0, -1)
        : (await Promise.all(options.ids.map((id) => this.dlq.getJob(id)))).filter(
            (job): job is Job<DeadLetterData> => job !== undefined,
          );
    if (options.dryRun) return jobs.map((job) => String(job.id));
    const redriven: string[] = [];
    for (const job of jobs) {
      // A redrive starts afresh: no dead-letter record, no decorrelated-jitter memory.
      const { deadLetter, lastBackoffMs, ...original } = job.data;
      void lastBackoffMs;
      await this.main.add(
        eventJobName,
        { ...original, publishedAt: Date.now(), publishToken: randomUUID() },
        eventJobOptions(String(job.id), deadLetter),
      );
      await job.remove();
      redriven.push(String(job.id));
    }
    return redriven;
  }

  /** Deletes every dead-lettered job; answers how many there were. */
  async purge(): Promise<number> {
    const count = await this.count();
    await this.dlq.obliterate({ force: true });
    return count;
  }
}
