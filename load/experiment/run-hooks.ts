import { type LoadProgress } from '../generator/options.ts';
import { type LoadResult } from '../generator/recording.ts';
import { type Segment, segmentOf } from '../distributed/segment.ts';
import type { LoadMetrics } from '../generator/metrics.ts';
import type { LoadTarget } from '../generator/series.ts';
import { warmupLoad } from './time-scale.ts';
import type { Timings } from './timings.ts';
import { type RunObservations } from './observations.ts';

/** A job's lock on a fresh stack whose run kills a worker: its jobs wait this long (wall time) for redelivery. */
export const killedWorkerLockMs = 2000;
/** The worker settings of such a stack: locks that lapse in 2 s, checked every second. */
export const killedWorkerEnv = {
  LOCK_DURATION_MS: String(killedWorkerLockMs),
  STALLED_INTERVAL_MS: '1000',
};

export interface RunHooks {
  onProgress?:
    ((run: string, progress: LoadProgress, queueDepth: number | null) => void) | undefined;
  /** The generator's counters for a `/metrics` endpoint (the measured load only, not the warm-up). */
  metrics?: LoadMetrics | undefined;
  /**
   * Send each run's measured load from this many local generator processes, each a
   * segment of the schedule on one clock, their results merged exactly. @defaultValue 1
   */
  generators?: number | undefined;
  /** One generator of a run split across machines (`experiment --segment i/n`). */
  segment?: SegmentHook | undefined;
  /** Wall time per phase (`--timings`). */
  timings?: Timings | undefined;
}

/**
 * A generator of a distributed experiment: its share of the run's schedule and the shared
 * start. It hands over its share's result (with its histograms, for merge) and, when it
 * is the coordinator (segment 0, which sets up the stack, injects the faults and reads the
 * services), the run's observations, one per row.
 */
export interface SegmentHook {
  segment: Segment;
  startAt: number;
  onLoad(load: LoadResult): void;
  onRows?: (rows: Array<Omit<RunObservations, 'load'>>) => void;
}

/**
 * The arrivals this process's pool is opened for: only the warm-up when local generators
 * send the load (they open their own), its share when it is a segment, else the schedule.
 */
export const pooledOffsets = (schedule: number[], hooks: RunHooks) =>
  (hooks.generators ?? 1) > 1
    ? warmupLoad(schedule).offsetsMs
    : hooks.segment
      ? segmentOf(schedule, hooks.segment.segment).offsetsMs
      : schedule;

/**
 * How long the generator's pool assumes an answer may take when it opens a connection for
 * every request that can be in flight (connectFor): a model second for a call, whose answer
 * waits for its work; none for a publish, answered once the job is queued (the largest
 * burst's connections, then: 2 000 connections took 2.6 s to open here, 350 took 0.4 s).
 */
export const connectionHoldMs = (target: LoadTarget, timeScale: number): number =>
  target === 'events' ? 0 : 1000 * timeScale;

/** The id prefix every generator of one distributed run shares. */
export const segmentIdPrefix = (run: string, startAt: number) => `${run}-${startAt.toString(36)}`;
