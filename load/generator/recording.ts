import type { BurstSummary, EncodedBursts } from './bursts.ts';
import { type Bucket, BucketSeries, type EncodedBucket, type LoadTarget } from './series.ts';
import { type LatencySummary, LatencyRecorder, round } from './stats.ts';
import { addTally, emptyTally, type Tally } from './tally.ts';

export interface LoadResult extends Tally {
  target: LoadTarget;
  durationMs: number;
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

/** Past this the generator, not the system under test, shaped the arrivals (wrk2 states ±1 ms). */
export const latenessLimitMs = 2;

/** The requests one generator may have in flight unless told otherwise (`--max-outstanding`). */
export const defaultMaxOutstanding = 10_000;

/** The outcome of an arrival the generator's cap dropped. */
export const capLabel = 'dropped: generator cap';

/**
 * What a load measured, in forms that add up: counts and outcomes, four HDR histograms and a
 * series per time bucket. The generator fills one as answers come; a merge adds the parts of
 * several generators into one; either way `result` builds the LoadResult, the one place it is.
 */
export class Recording {
  readonly tally = emptyTally();
  readonly outcomes: Record<string, number> = {};
  readonly latency = new LatencyRecorder();
  readonly serviceLatency = new LatencyRecorder();
  readonly lateness = new LatencyRecorder();
  readonly pacing = new LatencyRecorder();
  readonly series: BucketSeries;
  readonly bucketMs: number;

  constructor(bucketMs: number) {
    this.bucketMs = bucketMs;
    this.series = new BucketSeries(bucketMs);
  }

  /** One generator's recorded result (a part of a distributed run), added in. */
  add(part: Tally & { outcomes: Record<string, number>; recorded: RecordedLoad }): this {
    addTally(this.tally, part);
    for (const [label, n] of Object.entries(part.outcomes))
      this.outcomes[label] = (this.outcomes[label] ?? 0) + n;
    for (const field of ['latency', 'serviceLatency', 'lateness', 'pacing'] as const)
      this[field].add(LatencyRecorder.decode(part.recorded[field]));
    this.series.addEncoded(part.recorded.series);
    return this;
  }

  result(o: {
    target: LoadTarget;
    durationMs: number;
    bursts: BurstSummary | null;
    maxOutstanding: number;
    /** The schedule ran every time constant × this: lateness is judged in the model's time. */
    timeScale: number;
    /** Keep the histograms, series and these bursts encoded, for a part that merges. */
    record?: EncodedBursts | undefined;
    warnings?: string[];
  }): LoadResult {
    const pacing = this.pacing.summary();
    return {
      target: o.target,
      durationMs: Math.round(o.durationMs),
      ...this.tally,
      outcomes: this.outcomes,
      latency: this.latency.summary(),
      serviceLatency: this.serviceLatency.summary(),
      lateness: this.lateness.summary(),
      pacing,
      bursts: o.bursts,
      series: this.series.toJSON(),
      warnings: [
        ...loadWarnings({
          pacing,
          bursts: o.bursts,
          capped: this.outcomes[capLabel] ?? 0,
          maxOutstanding: o.maxOutstanding,
          timeScale: o.timeScale,
        }),
        ...(o.warnings ?? []),
      ],
      ...(o.record
        ? {
            recorded: {
              latency: this.latency.encode(),
              serviceLatency: this.serviceLatency.encode(),
              lateness: this.lateness.encode(),
              pacing: this.pacing.encode(),
              bucketMs: this.bucketMs,
              series: this.series.encode(),
              bursts: o.record,
            },
          }
        : {}),
    };
  }
}

/**
 * When the generator, not the system under test, shaped the arrivals; judged on the
 * hand-over to the pool (waiting for the target to accept a connection is not the
 * generator's doing), in the model's time: a scaled schedule forgives k-fold.
 */
function loadWarnings(o: {
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
