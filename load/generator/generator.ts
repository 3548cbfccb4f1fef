import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, Pool } from 'undici';
import {
  type Answer,
  type Bucket,
  BucketSeries,
  type EncodedBucket,
  classify,
  type LoadTarget,
  successStatus,
} from './series.ts';
import { type HttpRequestPlan, type HttpRequestSpec, planHttpRequests } from './http-target.ts';
import type { LoadMetrics } from './metrics.ts';
import { BurstTracker, type BurstSummary, type EncodedBursts, peakArrivals } from './bursts.ts';
import { type LatencySummary, LatencyRecorder, round } from './stats.ts';

export type { Bucket, LoadTarget } from './series.ts';
export type { BurstSummary } from './bursts.ts';

export interface LoadOptions {
  target: LoadTarget;
  /** The gateway's origin for `rpc`, the producer's for `events`, the endpoint's for `http`. */
  baseUrl: string;
  /** For `http`: what each arrival sends, and which statuses are ok. */
  request?: HttpRequestSpec | undefined;
  /** When each request is due, ms from the start, ascending (see schedule.ts). */
  offsetsMs: number[];
  /**
   * A segment of a larger schedule (distributed/segment.ts): each arrival's number in the
   * whole schedule, for its id and templates, so generators' ids never collide. Unset: its position.
   */
  indices?: ArrayLike<number>;
  /**
   * The schedule's zero as a wall-clock instant (epoch ms), shared by every generator of a
   * distributed run; the run waits for it. Unset: at once.
   */
  startAt?: number;
  /** Keep the histograms, series and bursts encoded in `recorded`, for a result file that merges. */
  record?: boolean;
  /** Requests in flight at most; arrivals beyond it are counted as dropped, not delayed. @defaultValue 10000 */
  maxOutstanding?: number;
  /** @defaultValue 250 */
  bucketMs?: number;
  /** @defaultValue 'req' */
  idPrefix?: string;
  /**
   * Connections to the target at most. Each carries one request at a time, so below
   * `maxOutstanding` a slow target makes arrivals wait for a connection: the lateness says so.
   * @defaultValue maxOutstanding
   */
  connections?: number;
  /** A pool of the caller's (see `connectFor`), kept open after the run; unset: one of the run's own. */
  pool?: Pool;
  onProgress?: (progress: LoadProgress) => void;
  /** Counts every answer and the requests in flight, for a `/metrics` endpoint. */
  metrics?: LoadMetrics;
  /** @defaultValue 1000 */
  progressEveryMs?: number;
  /**
   * The schedule runs every time constant of a model × this (an experiment's time scale):
   * lateness is judged, and warned about, in the model's time (÷ this). @defaultValue 1
   */
  timeScale?: number;
}

export interface LoadProgress {
  elapsedMs: number;
  scheduled: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  outstanding: number;
}

export interface LoadResult {
  target: LoadTarget;
  durationMs: number;
  /** Every scheduled arrival: sent = ok + failed + dropped. */
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  /** By answer: `ok`, `<status> <error code>`, `connection_error`, `dropped: generator cap`. */
  outcomes: Record<string, number>;
  /** From the scheduled time: what a user waiting since then saw (no coordinated omission). */
  latency: LatencySummary;
  /** From the moment the request was written to a connection. */
  serviceLatency: LatencySummary;
  /** How late each request was written to a connection, against its scheduled time. */
  lateness: LatencySummary;
  /**
   * How late the generator handed each request to its connection pool: its own pacing.
   * The rest of `lateness` is the wait for a connection, i.e. for the target to accept one.
   */
  pacing: LatencySummary;
  /** For arrivals scheduled at the same instant (bursts): how long each took to leave. */
  bursts: BurstSummary | null;
  series: Bucket[];
  warnings: string[];
  /** With `record`: what this run's figures were computed from, lossless, for a merge. */
  recorded?: RecordedLoad;
}

/** A run's histograms (HdrHistogram, encoded), its series and bursts: the parts of a result that add up. */
export interface RecordedLoad {
  latency: string;
  serviceLatency: string;
  lateness: string;
  pacing: string;
  bucketMs: number;
  series: EncodedBucket[];
  bursts: EncodedBursts;
}

const headers = ['content-type', 'application/json'];

/** Past this the generator, not the system under test, shaped the arrivals (wrk2 states ±1 ms). */
export const latenessLimitMs = 2;

/**
 * One request: undici's dispatch handler, so an answer costs no promise, no body stream
 * and no header object. The body is kept only when the status alone does not classify it.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly run: LoadRun;
  readonly index: number;
  sentAtMs = -1;
  statusCode = 0;
  chunks: Buffer[] | undefined;

  constructor(run: LoadRun, index: number) {
    this.run = run;
    this.index = index;
  }

  onRequestStart(): void {
    if (this.sentAtMs < 0) this.sentAtMs = this.run.written(this);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.statusCode = statusCode;
    if (!this.run.isOk(statusCode)) this.chunks = [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Error answers are small JSON; a runaway body is cut off rather than buffered.
    if (this.chunks && this.chunks.length < 16) this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.run.answered(
      this,
      classify(this.run.target, this.statusCode, parseBody(this.chunks), this.run.isOk),
    );
  }

  onResponseError(): void {
    this.run.answered(this, connectionError);
  }
}

const connectionError: Answer = Object.freeze({ kind: 'failed', label: 'connection_error' });
const cappedAnswer: Answer = Object.freeze({ kind: 'dropped', label: 'dropped: generator cap' });

function parseBody(chunks: Buffer[] | undefined): unknown {
  if (!chunks) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The state of one run: counters and recorders that every request updates in place. */
class LoadRun {
  readonly target: LoadTarget;
  readonly #options: LoadOptions;
  readonly #offsetsMs: number[];
  readonly #pool: Pool;
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
  readonly latency = new LatencyRecorder();
  readonly serviceLatency = new LatencyRecorder();
  readonly lateness = new LatencyRecorder();
  readonly pacing = new LatencyRecorder();
  readonly bursts: BurstTracker;
  readonly series: BucketSeries;
  readonly outcomes: Record<string, number> = {};
  readonly totals = { ok: 0, failed: 0, dropped: 0 };
  sent = 0;
  outstanding = 0;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #finished: () => void = () => undefined;

  constructor(options: LoadOptions) {
    this.#options = options;
    this.target = options.target;
    this.#offsetsMs = options.offsetsMs;
    this.#indices = options.indices;
    if (options.indices && options.indices.length !== options.offsetsMs.length)
      throw new Error('indices: one per arrival');
    this.#maxOutstanding = options.maxOutstanding ?? 10_000;
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
    this.series = new BucketSeries(options.bucketMs ?? 250);
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
    this.sent += 1;
    this.series.at(scheduledMs).sent += 1;
    if (this.outstanding >= this.#maxOutstanding) {
      this.#count(cappedAnswer, scheduledMs, null);
      return;
    }
    this.outstanding += 1;
    this.#options.metrics?.outstanding(this.target, this.outstanding);
    const atMs = this.now();
    this.pacing.record(atMs - scheduledMs);
    this.bursts.dispatched(index, atMs);
    const http = this.#http;
    const id = this.#indices ? this.#indices[index]! : index;
    this.#pool.dispatch(
      http
        ? {
            method: http.method,
            path: http.path(id),
            headers: http.headers(id),
            body: http.body?.(id) ?? null,
          }
        : { method: 'POST', path: this.#path, headers, body: `${this.#bodyHead}${id}"}` },
      new Exchange(this, index),
    );
  }

  /** The moment a request is written to a connection: its lateness against the schedule. */
  written(exchange: Exchange): number {
    const atMs = this.now();
    this.lateness.record(atMs - this.#offsetsMs[exchange.index]!);
    return atMs;
  }

  answered(exchange: Exchange, answer: Answer): void {
    const doneMs = this.now();
    const scheduledMs = this.#offsetsMs[exchange.index]!;
    const latencyMs = doneMs - scheduledMs;
    this.latency.record(latencyMs);
    // A request that failed before it was written (no connection) has no service latency.
    if (exchange.sentAtMs >= 0) this.serviceLatency.record(doneMs - exchange.sentAtMs);
    this.series.at(doneMs).latency.record(latencyMs);
    this.#count(answer, doneMs, latencyMs);
    this.outstanding -= 1;
    this.#options.metrics?.outstanding(this.target, this.outstanding);
    // Timers fire to the millisecond at best; an answer is a chance to send what fell due since.
    this.#sendDue();
    this.#settle();
  }

  #count(answer: Answer, atMs: number, latencyMs: number | null): void {
    this.outcomes[answer.label] = (this.outcomes[answer.label] ?? 0) + 1;
    this.totals[answer.kind] += 1;
    this.series.at(atMs)[answer.kind] += 1;
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
      sent: this.sent,
      ...this.totals,
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

/** The generator's pool: one request per connection at a time (no pipelining). */
export const loadPool = (baseUrl: string, connections: number) =>
  new Pool(baseUrl, { connections, pipelining: 1 });

/**
 * A pool with a connection open for every request the schedule can have in flight if
 * each stays `holdMs` (the arrivals within any `holdMs`; by default the largest burst),
 * as a population of clients with warm connections would have: then no arrival waits
 * for a TCP handshake the earlier ones skipped, and a burst is not spread by hundreds of
 * new connections. Each is opened by a `GET /healthz`, whatever it answers. The caller
 * closes the pool.
 */
export async function connectFor(
  baseUrl: string,
  offsetsMs: number[],
  { maxOutstanding = 10_000, holdMs = 0 } = {},
): Promise<Pool> {
  const pool = loadPool(baseUrl, maxOutstanding);
  const count = Math.min(maxOutstanding, peakArrivals(offsetsMs, holdMs));
  await Promise.all(
    Array.from({ length: count }, () =>
      pool.request({ method: 'GET', path: '/healthz' }).then(
        (response) => response.body.dump(),
        () => undefined,
      ),
    ),
  );
  return pool;
}

/**
 * Fires an open-loop schedule: each request leaves at its scheduled time whatever
 * earlier ones are doing, so a slow system cannot slow the arrivals down (no
 * coordinated omission). A timer wakes the generator for the next due arrival and it
 * sends everything due in one go, so a burst leaves as fast as the event loop writes it.
 * Latency is recorded from the scheduled time and from the moment of writing; how late
 * each request was written is reported, with a warning when the generator, not the
 * system under test, shaped the arrivals.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const run = new LoadRun(options);
  const progressEveryMs = options.progressEveryMs ?? 1000;
  let lastReported = '';
  const report = () => {
    // Waiting for a shared start: nothing to say yet.
    if (!run.started) return;
    const progress = run.progress();
    lastReported = `${progress.sent}/${progress.ok}/${progress.failed}/${progress.dropped}`;
    options.onProgress?.(progress);
  };
  const progressTimer = options.onProgress ? setInterval(report, progressEveryMs) : undefined;
  let durationMs: number;
  try {
    durationMs = await run.run();
  } finally {
    clearInterval(progressTimer);
  }
  const { ok, failed, dropped } = run.totals;
  if (options.onProgress && lastReported !== `${run.sent}/${ok}/${failed}/${dropped}`) report();

  const pacing = run.pacing.summary();
  const bursts = run.bursts.summary();
  const warnings = loadWarnings({
    pacing,
    bursts,
    capped: run.outcomes['dropped: generator cap'] ?? 0,
    maxOutstanding: options.maxOutstanding ?? 10_000,
    timeScale: options.timeScale ?? 1,
  });
  return {
    target: options.target,
    durationMs: Math.round(durationMs),
    sent: run.sent,
    ok,
    failed,
    dropped,
    outcomes: run.outcomes,
    latency: run.latency.summary(),
    serviceLatency: run.serviceLatency.summary(),
    lateness: run.lateness.summary(),
    pacing,
    bursts,
    series: run.series.toJSON(),
    warnings,
    ...(options.record
      ? {
          recorded: {
            latency: run.latency.encode(),
            serviceLatency: run.serviceLatency.encode(),
            lateness: run.lateness.encode(),
            pacing: run.pacing.encode(),
            bucketMs: options.bucketMs ?? 250,
            series: run.series.encode(),
            bursts: run.bursts.encode(),
          },
        }
      : {}),
  };
}

/**
 * When the generator, not the system under test, shaped the arrivals; judged on the
 * hand-over to the pool (waiting for the target to accept a connection is not the
 * generator's doing), in the model's time: a scaled schedule forgives k-fold.
 */
export function loadWarnings(o: {
  pacing: LatencySummary;
  bursts: BurstSummary | null;
  capped: number;
  maxOutstanding: number;
  timeScale: number;
}): string[] {
  const warnings: string[] = [];
  const k = o.timeScale;
  const time = k === 1 ? '' : `, model time (÷ ${k})`;
  const late = round(((o.bursts ? o.bursts.startLatenessP99Ms : o.pacing.p99Ms) ?? 0) / k);
  if (late > latenessLimitMs)
    warnings.push(
      `the generator sent requests late (p99 ${late} ms behind schedule${o.bursts ? ' at the start of a burst' : ''}${time}): it, not the system under test, may be the bottleneck`,
    );
  const spread = round((o.bursts?.spreadP50Ms ?? 0) / k);
  if (o.bursts && spread > o.bursts.spreadLimitMs)
    warnings.push(
      `bursts took ${spread} ms to leave (p50, first to last hand-over${time}), past ${o.bursts.spreadLimitMs} ms for ${o.bursts.size} requests: the generator, not the schedule, spread them`,
    );
  if (o.capped > 0)
    warnings.push(
      `${o.capped} arrivals were dropped by the generator's cap of ${o.maxOutstanding} outstanding requests`,
    );
  return warnings;
}
