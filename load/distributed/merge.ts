import { mergeBursts, summariseBursts } from '../generator/bursts.ts';
import { type LoadResult, Recording } from '../generator/recording.ts';
import type { Tally } from '../generator/tally.ts';
import { PartError, type LoadPart, type SourcedPart } from './part.ts';
import { segmentLabel } from './segment.ts';

/** One generator's share of a merged run, kept as it was: its own lateness says whether it kept up. */
export interface GeneratorShare extends Tally {
  segment: string;
  /** Its own hand-over lateness (ms, wall time), and its bursts' spread, as it measured them. */
  pacingP99Ms: number | null;
  latenessP99Ms: number | null;
  burstSpreadP50Ms: number | null;
  durationMs: number;
  warnings: string[];
}

/** Several generators' parts of one run, merged: one load result as if one generator had sent it all. */
export interface MergedLoad {
  /** The parts' common settings (the first part's, checked equal in every other). */
  first: LoadPart;
  load: LoadResult;
  generators: GeneratorShare[];
}

/** Settings every part of one run must share, with how a mismatch is said. */
const shared: Array<[string, (part: LoadPart) => unknown]> = [
  ['run name', (part) => part.name],
  ['generator count', (part) => part.segment.count],
  ['schedule', (part) => part.schedule.fingerprint],
  ['target', (part) => part.target],
  ['start time', (part) => part.startAt],
  ['time scale', (part) => part.timeScale],
  ['bucket width', (part) => part.result.recorded.bucketMs],
];

/**
 * Checks that the parts are exactly the segments 0 … n−1 of one run, each once; every
 * problem is named (a missing segment, a duplicate and its two sources, a part of another run).
 */
export function checkParts(parts: SourcedPart[]): void {
  if (parts.length === 0) throw new PartError(['no generator results to merge']);
  const problems: string[] = [];
  const [head] = parts;
  for (const { part, source } of parts.slice(1))
    for (const [what, of] of shared) {
      const mine = JSON.stringify(of(part));
      const theirs = JSON.stringify(of(head!.part));
      if (mine !== theirs)
        problems.push(
          `${source} is not part of the same run as ${head!.source}: its ${what} is ${mine}, not ${theirs}`,
        );
    }
  if (problems.length > 0) throw new PartError(problems);
  const count = head!.part.segment.count;
  const bySegment = new Map<number, string>();
  for (const { part, source } of parts) {
    const earlier = bySegment.get(part.segment.index);
    if (earlier !== undefined)
      problems.push(
        `segment ${segmentLabel(part.segment)} appears twice: ${earlier} and ${source}`,
      );
    else bySegment.set(part.segment.index, source);
  }
  for (let index = 0; index < count; index += 1)
    if (!bySegment.has(index))
      problems.push(`segment ${segmentLabel({ index, count })} is missing`);
  if (problems.length > 0) throw new PartError(problems);
  const sent = parts.reduce((sum, { part }) => sum + part.result.sent, 0);
  if (sent !== head!.part.schedule.arrivals)
    throw new PartError([
      `the segments sent ${sent} arrivals in all, and their schedule has ${head!.part.schedule.arrivals}`,
    ]);
}

/**
 * Merges the parts of one run exactly: counts and outcomes summed, HDR histograms added
 * (percentiles of the merge are those of every latency in one histogram, not averages),
 * series added bucket by bucket on the shared clock, bursts judged from the first
 * hand-over of any generator to the last of all. Each generator's own lateness is kept.
 */
export function mergeParts(parts: SourcedPart[]): MergedLoad {
  checkParts(parts);
  const sorted = [...parts].sort((a, b) => a.part.segment.index - b.part.segment.index);
  const first = sorted[0]!.part;
  const recording = new Recording(first.result.recorded.bucketMs);
  for (const { part } of sorted) recording.add(part.result);
  const load = recording.result({
    target: first.target,
    durationMs: Math.max(...sorted.map(({ part }) => part.result.durationMs)),
    bursts: summariseBursts(
      mergeBursts(
        sorted.map(({ part }) => part.result.recorded.bursts),
        first.schedule.largestBurst,
      ),
    ),
    maxOutstanding: first.maxOutstanding,
    timeScale: first.timeScale,
    warnings:
      first.startAt === null
        ? [
            'the generators had no shared start (--start-at): each series is on its own clock, so the merged series and bursts are only as aligned as their starts were',
          ]
        : [],
  });
  const generators = sorted.map(({ part }): GeneratorShare => {
    const r = part.result;
    return {
      segment: segmentLabel(part.segment),
      sent: r.sent,
      ok: r.ok,
      failed: r.failed,
      dropped: r.dropped,
      pacingP99Ms: r.pacing.p99Ms,
      latenessP99Ms: r.lateness.p99Ms,
      burstSpreadP50Ms: r.bursts?.spreadP50Ms ?? null,
      durationMs: r.durationMs,
      warnings: r.warnings,
    };
  });
  return { first, load, generators };
}
