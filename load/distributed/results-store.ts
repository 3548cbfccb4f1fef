import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { poll } from '../../services/shared/poll.ts';
import type { LoadPart, SourcedPart } from './part.ts';
import { parsePart } from './part.ts';
import { segmentLabel } from './segment.ts';

/** How long a run's parts and start stay in Redis. */
const keepSeconds = 7 * 24 * 3600;

/** A run id as a key part: letters, digits, `.`, `_`, `-`. */
export const runIdPattern = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Generators' results in Redis under a run id (a hash, one field per segment), and the
 * start they agree on: for generators that share no filesystem, such as the pods of a
 * Kubernetes Indexed Job, with the stack's own Redis. Kept 7 days.
 */
export class ResultsStore {
  readonly #redis: Redis;
  readonly #runId: string;

  constructor(url: string, runId: string) {
    this.#redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.#runId = runId;
  }

  get #parts() {
    return `cascade-lab:runs:${this.#runId}:parts`;
  }

  /** Where a part is kept, for messages. */
  sourceOf(segment: string): string {
    return `redis run ${this.#runId} segment ${segment}`;
  }

  async save(part: LoadPart): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#parts, segmentLabel(part.segment), JSON.stringify(part))
      .expire(this.#parts, keepSeconds)
      .exec();
  }

  /**
   * The run's start (epoch ms): the first generator to ask sets it `delayMs` from its
   * clock, every other one reads it. The machines' clocks must agree (NTP).
   */
  async agreeStart(delayMs: number): Promise<number> {
    const key = `cascade-lab:runs:${this.#runId}:start`;
    await this.#redis.set(key, String(Date.now() + delayMs), 'EX', keepSeconds, 'NX');
    return Number(await this.#redis.get(key));
  }

  /**
   * The run's parts; with `waitMs`, polled until every segment the parts name is there or
   * the time is up (merge then names the missing ones).
   */
  async read(
    waitMs = 0,
    onWait?: (have: number, want: number | undefined) => void,
  ): Promise<SourcedPart[]> {
    const { value } = await poll(
      async () => {
        const entries = Object.entries(await this.#redis.hgetall(this.#parts));
        return entries.map(([segment, text]) => parsePart(text, this.sourceOf(segment)));
      },
      (parts) => {
        const want = parts[0]?.part.segment.count;
        if (want !== undefined && parts.length >= want) return true;
        onWait?.(parts.length, want);
        return false;
      },
      { timeoutMs: waitMs, everyMs: 1000 },
    );
    return value;
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

/** Writes a part to a file or to the store; answers where it went. */
export async function savePart(part: LoadPart, to: ResultsStore | string): Promise<string> {
  if (typeof to === 'string') {
    writeFileSync(to, JSON.stringify(part));
    return to;
  }
  await to.save(part);
  return to.sourceOf(segmentLabel(part.segment));
}
