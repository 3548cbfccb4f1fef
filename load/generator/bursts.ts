import { LatencyRecorder } from './stats.ts';

export interface BurstSummary {
  /** Groups of arrivals scheduled at the same instant, and the largest group's size. */
  count: number;
  size: number;
  /** First to last hand-over to the pool of a burst, over the bursts (wall ms). */
  spreadP50Ms: number;
  spreadMaxMs: number;
  /** How late the first request of a burst was handed over (p99 over the bursts). */
  startLatenessP99Ms: number | null;
  /** The spread a burst of `size` may take before the generator, not the schedule, shaped it. */
  spreadLimitMs: number;
}

/**
 * A burst of 350 requests leaves within 15 ms on two cores (the generator's target,
 * docs/performance.md); a burst may take that much per 350 requests, and at least 2 ms.
 */
export const burstSpreadLimitMs = (size: number) => Math.max(2, (15 * size) / 350);

/**
 * The most arrivals scheduled within `windowMs` of each other (inclusive): with a window
 * of 0, the largest burst; with the longest a request may stay in flight, the most
 * requests the schedule can have in flight at once.
 */
export function peakArrivals(offsetsMs: number[], windowMs = 0): number {
  let peak = 0;
  for (let first = 0, last = 0; last < offsetsMs.length; last += 1) {
    while (offsetsMs[last]! - offsetsMs[first]! > windowMs) first += 1;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}

/** Tracks, for arrivals scheduled at the same instant, when the first and last of each was handed to the pool. */
export class BurstTracker {
  /** The instant each burst is scheduled at. */
  readonly #scheduledMs: number[] = [];
  /** The burst of each arrival, or -1 when it is alone at its instant. */
  readonly #burstOf: Int32Array;
  readonly #first: Float64Array;
  readonly #last: Float64Array;
  readonly #size: number;

  constructor(offsetsMs: number[]) {
    this.#burstOf = new Int32Array(offsetsMs.length).fill(-1);
    let count = 0;
    let size = 0;
    for (let start = 0; start < offsetsMs.length;) {
      let end = start + 1;
      while (end < offsetsMs.length && offsetsMs[end] === offsetsMs[start]) end += 1;
      if (end - start > 1) {
        this.#burstOf.fill(count, start, end);
        this.#scheduledMs.push(offsetsMs[start]!);
        count += 1;
        size = Math.max(size, end - start);
      }
      start = end;
    }
    this.#first = new Float64Array(count).fill(Number.NaN);
    this.#last = new Float64Array(count).fill(Number.NaN);
    this.#size = size;
  }

  dispatched(index: number, atMs: number): void {
    const burst = this.#burstOf[index] ?? -1;
    if (burst < 0) return;
    if (Number.isNaN(this.#first[burst]!)) this.#first[burst] = atMs;
    if (!(this.#last[burst]! >= atMs)) this.#last[burst] = atMs;
  }

  /** Null when no two arrivals share an instant. */
  summary(): BurstSummary | null {
    return summariseBursts(this.encode());
  }

  /** For a result file: each burst's instant and its first and last hand-over (null: none). */
  encode(): EncodedBursts {
    const ms = (value: number) => (Number.isNaN(value) ? null : Math.round(value * 1000) / 1000);
    return {
      size: this.#size,
      scheduledMs: [...this.#scheduledMs],
      firstMs: Array.from(this.#first, ms),
      lastMs: Array.from(this.#last, ms),
    };
  }
}

/** A burst tracker's record, as a result file keeps it. */
export interface EncodedBursts {
  /** The largest burst. */
  size: number;
  scheduledMs: number[];
  firstMs: Array<number | null>;
  lastMs: Array<number | null>;
}

/**
 * Generators that each sent a share of the same bursts on one clock: a burst left when the
 * first of them handed its first request over, and had left when the last handed its last.
 */
export function mergeBursts(parts: EncodedBursts[], size: number): EncodedBursts {
  const byInstant = new Map<number, { first: number | null; last: number | null }>();
  const min = (a: number | null, b: number | null) =>
    a === null ? b : b === null ? a : Math.min(a, b);
  const max = (a: number | null, b: number | null) =>
    a === null ? b : b === null ? a : Math.max(a, b);
  for (const part of parts)
    part.scheduledMs.forEach((at, i) => {
      const seen = byInstant.get(at) ?? { first: null, last: null };
      byInstant.set(at, {
        first: min(seen.first, part.firstMs[i]!),
        last: max(seen.last, part.lastMs[i]!),
      });
    });
  const instants = [...byInstant.keys()].sort((a, b) => a - b);
  return {
    size,
    scheduledMs: instants,
    firstMs: instants.map((at) => byInstant.get(at)!.first),
    lastMs: instants.map((at) => byInstant.get(at)!.last),
  };
}

/** Null when no two arrivals share an instant. */
export function summariseBursts({
  size,
  scheduledMs,
  firstMs,
  lastMs,
}: EncodedBursts): BurstSummary | null {
  if (scheduledMs.length === 0) return null;
  const spreads = new LatencyRecorder();
  const startLateness = new LatencyRecorder();
  let spreadMaxMs = 0;
  for (const [burst, first] of firstMs.entries()) {
    if (first === null) continue;
    const spread = lastMs[burst]! - first;
    spreads.record(spread);
    spreadMaxMs = Math.max(spreadMaxMs, spread);
    startLateness.record(first - scheduledMs[burst]!);
  }
  return {
    count: scheduledMs.length,
    size,
    spreadP50Ms: spreads.percentileMs(50) ?? 0,
    spreadMaxMs: Math.round(spreadMaxMs * 100) / 100,
    startLatenessP99Ms: startLateness.percentileMs(99),
    spreadLimitMs: Math.round(burstSpreadLimitMs(size) * 100) / 100,
  };
}
