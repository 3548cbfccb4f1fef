import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
}

/** `value` to `digits` decimals; null stays null. */
export const round = <T extends number | null>(value: T, digits = 2): T =>
  (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits) as T;

/** Seconds (as Prometheus counts them) in ms, rounded; null stays null. */
export const msFromSeconds = (seconds: number | null) =>
  seconds === null ? null : round(seconds * 1000);

/** Latencies in an HDR histogram at microsecond resolution (1 µs … 1 h, 3 significant digits). */
export class LatencyRecorder {
  readonly #histogram: hdr.Histogram;
  /** The largest value recorded, exact: an encoded histogram keeps only its bucket. */
  #maxUs = 0;
  /**
   * The sum of the values recorded, for an exact mean at no cost (the histogram's own walks
   * every bucket: 11 ms a histogram after a bench run); null once a decoded one is added.
   */
  #sumUs: number | null = 0;

  /**
   * `packed` stores only the counts in use at 2 significant digits (~3 KB instead of
   * ~95 KB, percentiles within 1 %): the generator keeps one per time bucket, for charts.
   * At 3 digits a packed histogram took 5 ms to give p50 and p99 (bench/results).
   */
  constructor({ packed = false, digits }: { packed?: boolean; digits?: 2 | 3 } = {}) {
    this.#histogram = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: digits ?? (packed ? 2 : 3),
      bitBucketSize: packed ? 'packed' : 32,
    });
  }

  /**
   * Lossless and compact: the exact maximum (µs), `~`, HdrHistogram's compressed base64
   * form of the counts. For result files that merge.
   */
  encode(): string {
    return `${this.#maxUs}~${hdr.encodeIntoCompressedBase64(this.#histogram)}`;
  }

  /** A recorder holding what `encode` wrote; `packed` as the encoded one was built. */
  static decode(text: string, { packed = false } = {}): LatencyRecorder {
    const [max, counts] = text.split('~');
    if (counts === undefined || !/^\d+$/.test(max!))
      throw new Error('not an encoded latency histogram');
    const recorder = new LatencyRecorder({ packed });
    recorder.#histogram.add(hdr.decodeFromCompressedBase64(counts, packed ? 'packed' : 32));
    recorder.#maxUs = Number(max);
    recorder.#sumUs = null;
    return recorder;
  }

  /** Adds another's counts: percentiles of the sum are those of every value recorded in one. */
  add(other: LatencyRecorder): this {
    this.#histogram.add(other.#histogram);
    this.#maxUs = Math.max(this.#maxUs, other.#maxUs);
    this.#sumUs = this.#sumUs === null || other.#sumUs === null ? null : this.#sumUs + other.#sumUs;
    return this;
  }

  reset(): void {
    this.#histogram.reset();
    this.#maxUs = 0;
    this.#sumUs = 0;
  }

  record(ms: number): void {
    const us = Math.max(1, Math.round(ms * 1000));
    this.#histogram.recordValue(us);
    if (us > this.#maxUs) this.#maxUs = us;
    if (this.#sumUs !== null) this.#sumUs += us;
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  percentileMs(percentile: number): number | null {
    return this.count === 0 ? null : round(this.#histogram.getValueAtPercentile(percentile) / 1000);
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    return {
      count: this.count,
      p50Ms: this.percentileMs(50),
      p95Ms: this.percentileMs(95),
      p99Ms: this.percentileMs(99),
      maxMs: empty ? null : round(this.#maxUs / 1000),
      meanMs: empty
        ? null
        : round((this.#sumUs ?? this.#histogram.mean * this.count) / this.count / 1000),
    };
  }
}
