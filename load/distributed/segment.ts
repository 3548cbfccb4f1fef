import { createHash } from 'node:crypto';
import { peakArrivals } from '../generator/bursts.ts';

/** Generator `index` of `count` (from 0): which share of a seeded schedule it sends. */
export interface Segment {
  index: number;
  count: number;
}

/** Generators of one distributed run at most. */
export const maxGenerators = 256;

/** `i/n` as typed (`--segment 1/4`): the segment, or what is wrong with it. */
export function parseSegment(text: string): { segment?: Segment; problem?: string } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || count > maxGenerators || index >= count)
    return {
      problem: `must be i/n with 0 ≤ i < n ≤ ${maxGenerators}, e.g. 0/4 for the first of four generators (got "${text}")`,
    };
  return { segment: { index, count } };
}

export const segmentLabel = ({ index, count }: Segment) => `${index}/${count}`;

/**
 * Generator i of n sends every arrival whose number k in the whole schedule has
 * k mod n = i: disjoint, deterministic, and their union is the schedule itself. Arrivals
 * due at the same instant (a burst) are numbered consecutively, so every burst is shared
 * out (each generator sends ⌊size/n⌋ or ⌈size/n⌉ of it) and at every instant the
 * generators together send exactly what one would. A constant rate r becomes n
 * interleaved rates r/n. `indices` are the numbers k, for ids that never collide.
 */
export function segmentOf(
  offsetsMs: number[],
  { index, count }: Segment,
): { offsetsMs: number[]; indices: Int32Array } {
  const size = Math.max(0, Math.ceil((offsetsMs.length - index) / count));
  const indices = new Int32Array(size);
  const share = new Array<number>(size);
  for (let j = 0, k = index; k < offsetsMs.length; j += 1, k += count) {
    indices[j] = k;
    share[j] = offsetsMs[k]!;
  }
  return { offsetsMs: share, indices };
}

/**
 * What a part says of the whole schedule its segment was cut from: its size, a hash (parts
 * merge only if they ran the same one), its largest burst, and how it was given.
 */
export function scheduleFacts(offsetsMs: number[], spec?: unknown) {
  return {
    arrivals: offsetsMs.length,
    fingerprint: scheduleFingerprint(offsetsMs),
    largestBurst: peakArrivals(offsetsMs),
    ...(spec === undefined ? {} : { spec }),
  };
}

/** A short hash of a whole schedule: generators whose results merge must have run the same one. */
export function scheduleFingerprint(offsetsMs: number[]): string {
  return createHash('sha256')
    .update(new Uint8Array(Float64Array.from(offsetsMs).buffer))
    .digest('hex')
    .slice(0, 16);
}
