import { LatencyRecorder } from './stats.ts';
import { addTally, emptyTally, type Tally } from './tally.ts';

/** Our gateway's `POST /rpc`, our producer's `POST /events`, or any HTTP endpoint. */
export type LoadTarget = 'rpc' | 'events' | 'http';

/** One time bucket of a run: arrivals scheduled in it, answers that came back in it, and their latency. */
export interface Bucket extends Tally {
  startMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** What an answer counts as: ok, failed or dropped, and the label it is counted under in `outcomes`. */
export interface Answer {
  kind: 'ok' | 'failed' | 'dropped';
  label: string;
}

/** The status that alone says a request to one of ours succeeded: the body need not be read. */
export const successStatus = { rpc: 200, events: 202 } as const satisfies Record<
  Exclude<LoadTarget, 'http'>,
  number
>;

/**
 * rpc: 200 is ok; events: 202 is ok, 200 `{duplicate: true}` is ok (already queued), 429 is
 * dropped (refused for capacity); anything else failed, labelled by status and error code.
 * `body` is the parsed answer, read only when the status alone does not say.
 */
const okAnswer: Answer = Object.freeze({ kind: 'ok', label: 'ok' });

export function classify(
  target: LoadTarget,
  statusCode: number,
  body?: unknown,
  /** For `http`: the statuses that count as ok (its request's `okStatuses`). */
  isOk: (status: number) => boolean = (status) => status >= 200 && status < 300,
): Answer {
  if (target === 'http' ? isOk(statusCode) : statusCode === successStatus[target]) return okAnswer;
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as {
    error?: unknown;
    duplicate?: unknown;
  };
  if (target === 'events' && statusCode === 200 && parsed.duplicate === true) {
    return { kind: 'ok', label: 'duplicate' };
  }
  // Another server's failures carry no error code of ours: the status alone.
  if (target === 'http')
    return {
      kind: 'failed',
      label: typeof parsed.error === 'string' ? `${statusCode} ${parsed.error}` : `${statusCode}`,
    };
  const code = typeof parsed.error === 'string' ? parsed.error : 'error';
  if (target === 'events' && statusCode === 429) return { kind: 'dropped', label: `429 ${code}` };
  return { kind: 'failed', label: `${statusCode} ${code}` };
}

/** A bucket as a result file keeps it: its latency histogram encoded, so buckets of several generators add up. */
export interface EncodedBucket extends Tally {
  latency: string;
}

/** Per-bucket counts and latency over a run (a packed HDR histogram per bucket). */
export class BucketSeries {
  readonly #bucketMs: number;
  readonly #buckets: Array<Tally & { latency: LatencyRecorder }> = [];
  /** The latencies of the bucket answers are coming into, unpacked (see `recordLatency`). */
  readonly #active = new LatencyRecorder({ digits: 2 });
  /** Its bucket; -1 before the first answer. */
  #activeIndex = -1;

  constructor(bucketMs: number) {
    this.#bucketMs = bucketMs;
  }

  at(ms: number) {
    return this.#bucket(Math.max(0, Math.floor(ms / this.#bucketMs)));
  }

  #bucket(index: number) {
    for (let i = this.#buckets.length; i <= index; i += 1) {
      this.#buckets.push({ ...emptyTally(), latency: new LatencyRecorder({ packed: true }) });
    }
    return this.#buckets[index]!;
  }

  /**
   * An answer's latency in the bucket of `ms`. Answers come in time order, so one unpacked
   * histogram takes them and is folded into its bucket's packed one when time moves on:
   * recording into a packed histogram cost the generator more than all its other
   * histograms together (CPU profile, docs/performance.md).
   */
  recordLatency(ms: number, latencyMs: number): void {
    const index = Math.max(0, Math.floor(ms / this.#bucketMs));
    if (index !== this.#activeIndex) {
      this.#fold();
      this.#activeIndex = index;
      this.#bucket(index);
    }
    this.#active.record(latencyMs);
  }

  #fold(): void {
    if (this.#active.count === 0) return;
    this.#buckets[this.#activeIndex]!.latency.add(this.#active);
    this.#active.reset();
  }

  toJSON(): Bucket[] {
    this.#fold();
    return this.#buckets.map((bucket, index) => ({
      startMs: index * this.#bucketMs,
      sent: bucket.sent,
      ok: bucket.ok,
      failed: bucket.failed,
      dropped: bucket.dropped,
      p50Ms: bucket.latency.percentileMs(50),
      p99Ms: bucket.latency.percentileMs(99),
    }));
  }

  encode(): EncodedBucket[] {
    this.#fold();
    return this.#buckets.map(({ latency, ...counts }) => ({
      ...counts,
      latency: latency.encode(),
    }));
  }

  /** Another generator's series on the same clock, added bucket by bucket (latencies exactly). */
  addEncoded(buckets: EncodedBucket[]): void {
    for (const [index, { latency, ...counts }] of buckets.entries()) {
      const bucket = this.at(index * this.#bucketMs);
      addTally(bucket, counts);
      bucket.latency.add(LatencyRecorder.decode(latency, { packed: true }));
    }
  }
}
