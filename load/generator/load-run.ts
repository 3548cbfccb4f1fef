import { setTimeout as sleep } from 'node:timers/promises';
import { BurstTracker } from './bursts.ts';
import { cappedAnswer, Exchange, type ExchangeOwner } from './exchange.ts';
import { type HttpRequestPlan, planHttpRequests } from './http-target.ts';
import type { LoadOptions, LoadProgress } from './options.ts';
import { defaultMaxOutstanding, Recording } from './recording.ts';
import { type Answer, type LoadTarget, successStatus } from './series.ts';
import { loadPool } from './pool.ts';
import type { WirePool } from './wire-pool.ts';

const jsonHeader = 'content-type: application/json\r\n';

/** The state of one run: counters and recorders that every request updates in place. */
export class LoadRun implements ExchangeOwner {
  readonly target: LoadTarget;
  readonly #options: LoadOptions;
  readonly #offsetsMs: number[];
  readonly #pool: WirePool;
  readonly #path: string;
  readonly #bodyHead: string;
  readonly #http: HttpRequestPlan | undefined;
  /** Each arrival's number in the whole schedule (a segment of it), for ids. */
  readonly #indices: ArrayLike<number> | undefined;
  /** Whether a status alone says ok (the body of anything else is read for its error code). */
  readonly isOk: (status: number) => boolean;
  readonly #maxOutstanding: number;
  /** The schedule's zero: set when the first tick runs, not when the run is built. */
  #startedAt = 0;
  readonly recording: Recording;
  readonly bursts: BurstTracker;
  outstanding = 0;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #finished: () => void = () => undefined;

  constructor(options: LoadOptions) {
    this.#options = options;
    this.target = options.target;
    this.#indices = options.indices;
    if (options.indices && options.indices.length !== options.offsetsMs.length)
      throw new Error('indices: one per arrival');
    if (options.closed && options.indices)
      throw new Error('a closed loop runs in one generator: its requests follow its own answers');
    // A closed loop appends its users' next requests as answers come: a copy of its own.
    this.#offsetsMs = options.closed ? [...options.offsetsMs] : options.offsetsMs;
    this.#maxOutstanding = options.maxOutstanding ?? defaultMaxOutstanding;
    this.#pool =
      options.pool ?? loadPool(options.baseUrl, options.connections ?? this.#maxOutstanding);
    this.#path = options.target === 'rpc' ? '/rpc' : '/events';
    // `{"id":"<prefix>-<index>"}`, the prefix escaped once.
    this.#bodyHead = `{"id":${JSON.stringify(`${options.idPrefix ?? 'req'}-`).slice(0, -1)}`;
    if (options.target === 'http' && !options.request)
      throw new Error('an http load target needs its request (method, path, …)');
    this.#http =
      options.target === 'http' && options.request
        ? planHttpRequests(options.request, options.idPrefix ?? 'req')
        : undefined;
    const target = options.target;
    this.isOk =
      this.#http?.isOk ??
      ((status) => status === successStatus[target as Exclude<LoadTarget, 'http'>]);
    this.bursts = new BurstTracker(options.offsetsMs);
    this.recording = new Recording(options.bucketMs ?? 250);
  }

  get started(): boolean {
    return this.#startedAt > 0 && this.#startedAt <= performance.now();
  }

  now(): number {
    return performance.now() - this.#startedAt;
  }

  /** Sends every arrival that is due, then sleeps until the next one: a timer, never a spin. */
  readonly #tick = () => {
    this.#timer = undefined;
    this.#sendDue();
    if (this.#next < this.#offsetsMs.length)
      this.#timer = setTimeout(this.#tick, Math.max(0, this.#offsetsMs[this.#next]! - this.now()));
    else this.#settle();
  };

  #sendDue(): void {
    const offsets = this.#offsetsMs;
    const elapsed = this.now();
    // Taken before firing: an answer that comes back at once (a closed pool) may send too.
    while (this.#next < offsets.length && offsets[this.#next]! <= elapsed) this.#fire(this.#next++);
  }

  #fire(index: number): void {
    const scheduledMs = this.#offsetsMs[index]!;
    this.recording.tally.sent += 1;
    this.recording.series.at(scheduledMs).sent += 1;
    if (this.outstanding >= this.#maxOutstanding) {
      this.#count(cappedAnswer, scheduledMs, null);
      return;
    }
    this.outstanding += 1;
    this.#options.metrics?.outstanding(this.target, this.outstanding);
    const atMs = this.now();
    this.recording.pacing.record(atMs - scheduledMs);
    this.bursts.dispatched(index, atMs);
    const http = this.#http;
    const id = this.#indices ? this.#indices[index]! : index;
    this.#pool.dispatch(
      http
        ? {
            method: http.method,
            path: http.path(id),
            headerLines: http.headerLines(id),
            hasHost: http.hasHost,
            body: http.body?.(id) ?? null,
          }
        : {
            method: 'POST',
            path: this.#path,
            headerLines: jsonHeader,
            body: `${this.#bodyHead}${id}"}`,
          },
      new Exchange(this, index),
    );
  }

  /** The moment a request is written to a connection: its lateness against the schedule. */
  written(exchange: Exchange): number {
    const atMs = this.now();
    this.recording.lateness.record(atMs - this.#offsetsMs[exchange.index]!);
    return atMs;
  }

  answered(exchange: Exchange, answer: Answer): void {
    const doneMs = this.now();
    const scheduledMs = this.#offsetsMs[exchange.index]!;
    const latencyMs = doneMs - scheduledMs;
    const { recording } = this;
    recording.latency.record(latencyMs);
    // A request that failed before it was written (no connection) has no service latency.
    if (exchange.sentAtMs >= 0) recording.serviceLatency.record(doneMs - exchange.sentAtMs);
    recording.series.recordLatency(doneMs, latencyMs);
    this.#count(answer, doneMs, latencyMs);
    this.outstanding -= 1;
    this.#thinkThenSend(doneMs);
    this.#options.metrics?.outstanding(this.target, this.outstanding);
    // Timers fire to the millisecond at best; an answer is a chance to send what fell due since.
    this.#sendDue();
    this.#settle();
  }

  /**
   * A closed loop's user, answered: its next request is due after its think time, while the
   * loop lasts. A constant think time keeps the appended offsets in order.
   */
  #thinkThenSend(doneMs: number): void {
    const closed = this.#options.closed;
    if (!closed) return;
    const dueMs = doneMs + closed.thinkTimeMs;
    if (dueMs >= closed.durationMs || this.#offsetsMs.length >= (closed.requests ?? Infinity))
      return;
    this.#offsetsMs.push(dueMs);
    if (this.#timer === undefined && closed.thinkTimeMs > 0)
      this.#timer = setTimeout(this.#tick, closed.thinkTimeMs);
  }

  #count(answer: Answer, atMs: number, latencyMs: number | null): void {
    const { recording } = this;
    recording.outcomes[answer.label] = (recording.outcomes[answer.label] ?? 0) + 1;
    recording.tally[answer.kind] += 1;
    recording.series.at(atMs)[answer.kind] += 1;
    this.#options.metrics?.answered(
      this.target,
      answer.kind,
      latencyMs === null ? null : latencyMs / 1000,
    );
  }

  #settle(): void {
    if (this.#next >= this.#offsetsMs.length && this.outstanding === 0) this.#finished();
  }

  progress(): LoadProgress {
    return {
      elapsedMs: this.now(),
      scheduled: this.#offsetsMs.length,
      ...this.recording.tally,
      outstanding: this.outstanding,
    };
  }

  /** Runs the schedule to its end and waits for the last answer. */
  async run(): Promise<number> {
    const done = new Promise<void>((resolve) => (this.#finished = resolve));
    const startAt = this.#options.startAt;
    if (startAt !== undefined) {
      await sleep(Math.max(0, startAt - Date.now()));
      // The wall clock's instant on the monotonic clock: late, the schedule is already under way.
      this.#startedAt = performance.now() - (Date.now() - startAt);
    } else this.#startedAt = performance.now();
    this.#tick();
    await done;
    const durationMs = this.now();
    clearTimeout(this.#timer);
    if (!this.#options.pool) await this.#pool.close();
    return durationMs;
  }
}
