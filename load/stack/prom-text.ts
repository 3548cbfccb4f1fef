import { request } from 'undici';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Reads Prometheus text exposition format. Hand-written: the format is one sample
 * a line, and prom-client ships a writer but no reader.
 */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** A scrape, with sums and histogram quantiles over matching series. */
export class Scrape {
  readonly samples: Sample[];

  constructor(samples: Sample[]) {
    this.samples = samples;
  }

  static async of(baseUrl: string): Promise<Scrape> {
    const response = await request(`${baseUrl}/metrics`);
    return new Scrape(parsePrometheusText(await response.body.text()));
  }

  sum(name: string, labels: Record<string, string> = {}): number {
    let total = 0;
    for (const sample of this.samples) {
      if (
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
      ) {
        total += sample.value;
      }
    }
    return total;
  }

  /** Cumulative bucket counts by upper bound, summed over series matching `labels`. */
  buckets(name: string, labels: Record<string, string> = {}): Map<number, number> {
    const byBound = new Map<number, number>();
    for (const sample of this.samples) {
      if (sample.name !== `${name}_bucket`) continue;
      if (!Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) continue;
      const bound =
        sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value);
    }
    return byBound;
  }
}

/** The q-quantile of the observations between two scrapes, interpolated within buckets like PromQL's histogram_quantile. */
export function quantileBetween(
  before: Scrape,
  after: Scrape,
  name: string,
  q: number,
  labels: Record<string, string> = {},
): number | null {
  const start = before.buckets(name, labels);
  const bounds = [...after.buckets(name, labels).entries()]
    .map(([bound, count]) => [bound, count - (start.get(bound) ?? 0)] as const)
    .sort(([a], [b]) => a - b);
  const total = bounds.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const [bound, count] of bounds) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return previousBound;
      const inBucket = count - previousCount;
      return (
        previousBound +
        (bound - previousBound) * (inBucket === 0 ? 0 : (rank - previousCount) / inBucket)
      );
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}
