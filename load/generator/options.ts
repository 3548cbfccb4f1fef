import type { WirePool } from './wire-pool.ts';
import type { HttpRequestSpec } from './http-target.ts';
import type { LoadMetrics } from './metrics.ts';
import type { LoadTarget } from './series.ts';
import type { Tally } from './tally.ts';
import type { ClosedLoop } from '../schedule/schedule.ts';

export interface LoadOptions {
  target: LoadTarget;
  /** The gateway's origin for `rpc`, the producer's for `events`, the endpoint's for `http`. */
  baseUrl: string;
  /** For `http`: what each arrival sends, and which statuses are ok. */
  request?: HttpRequestSpec | undefined;
  /** When each request is due, ms from the start, ascending (see schedule.ts). */
  offsetsMs: number[];
  /**
   * A closed loop: `offsetsMs` are the users' first requests; each answer before
   * `durationMs` sends the user's next request `thinkTimeMs` later. Its latency runs from
   * when it was sent, as k6 measures it. One generator only (no `indices`).
   */
  closed?: ClosedLoop | undefined;
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
  pool?: WirePool;
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

export interface LoadProgress extends Tally {
  elapsedMs: number;
  scheduled: number;
  outstanding: number;
}
