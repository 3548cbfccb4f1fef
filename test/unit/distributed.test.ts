import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BurstTracker } from '../../load/generator/bursts.ts';
import { mergeParts } from '../../load/distributed/merge.ts';
import { type LoadPart, PartError, parsePart, toPart } from '../../load/distributed/part.ts';
import { parseSegment, scheduleFingerprint, segmentOf } from '../../load/distributed/segment.ts';
import { type LoadResult } from '../../load/generator/recording.ts';
import { BucketSeries } from '../../load/generator/series.ts';
import { mergedExperiment } from '../../load/experiment/merged-run.ts';
import { bursts, constant, ramp } from '../../load/schedule/schedule.ts';
import { LatencyRecorder } from '../../load/generator/stats.ts';
import { createRng } from '../../services/shared/rng.ts';

const schedules = fc.oneof(
  fc
    .record({ total: fc.integer({ min: 1, max: 3000 }), burst: fc.integer({ min: 1, max: 400 }) })
    .map(({ total, burst }) => ({ kind: 'bursts', offsets: bursts(total, burst, 80) })),
  fc
    .record({ rate: fc.integer({ min: 1, max: 2000 }), ms: fc.integer({ min: 1, max: 5000 }) })
    .map(({ rate, ms }) => ({ kind: 'constant', offsets: constant(rate, ms) })),
  fc
    .record({ from: fc.integer({ min: 0, max: 500 }), to: fc.integer({ min: 1, max: 500 }) })
    .map(({ from, to }) => ({ kind: 'ramp', offsets: ramp(from, to, 2000) })),
);

describe('segments of one schedule', () => {
  it('are disjoint and their union is the whole schedule, every offset once (bursts, constant, ramp)', () => {
    fc.assert(
      fc.property(schedules, fc.integer({ min: 1, max: 16 }), ({ offsets }, count) => {
        const seen = new Int32Array(offsets.length);
        for (let index = 0; index < count; index += 1) {
          const share = segmentOf(offsets, { index, count });
          expect(share.offsetsMs).toHaveLength(share.indices.length);
          share.indices.forEach((k, j) => {
            seen[k]! += 1;
            expect(share.offsetsMs[j]).toBe(offsets[k]);
          });
          // Each share is a schedule too: ascending.
          for (let j = 1; j < share.offsetsMs.length; j += 1)
            expect(share.offsetsMs[j]).toBeGreaterThanOrEqual(share.offsetsMs[j - 1]!);
        }
        expect([...seen].every((times) => times === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('share every burst out: at each instant the generators send ⌊size/n⌋ or ⌈size/n⌉ each', () => {
    const offsets = bursts(2000, 350, 80);
    const count = 3;
    const perInstant = new Map<number, number[]>();
    for (let index = 0; index < count; index += 1)
      for (const at of segmentOf(offsets, { index, count }).offsetsMs) {
        const counts = perInstant.get(at) ?? Array<number>(count).fill(0);
        counts[index]! += 1;
        perInstant.set(at, counts);
      }
    for (const [at, counts] of perInstant) {
      const size = offsets.filter((offset) => offset === at).length;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
      for (const n of counts)
        expect([Math.floor(size / count), Math.ceil(size / count)]).toContain(n);
    }
  });

  it('are named i/n, and anything else is refused with the form to use', () => {
    expect(parseSegment('2/4').segment).toEqual({ index: 2, count: 4 });
    for (const bad of ['4/4', '1', '-1/2', 'a/b', '0/0', '0/300'])
      expect(parseSegment(bad).problem).toMatch(/must be i\/n with 0 ≤ i < n/);
  });
});

/**
 * One generator's result as the generator builds it, from given answers: each a scheduled
 * offset, a latency and whether it was ok (its histograms, series and bursts real).
 */
function resultOf(
  answers: Array<{ atMs: number; latencyMs: number; ok: boolean }>,
  bucketMs = 100,
): LoadResult {
  const latency = new LatencyRecorder();
  const pacing = new LatencyRecorder();
  const series = new BucketSeries(bucketMs);
  const tracker = new BurstTracker(answers.map((answer) => answer.atMs));
  const outcomes: Record<string, number> = {};
  answers.forEach(({ atMs, latencyMs, ok }, index) => {
    latency.record(latencyMs);
    pacing.record(0.5);
    tracker.dispatched(index, atMs + 0.5);
    series.at(atMs).sent += 1;
    series.at(atMs + latencyMs)[ok ? 'ok' : 'failed'] += 1;
    series.at(atMs + latencyMs).latency.record(latencyMs);
    const label = ok ? 'ok' : '503 downstream_error';
    outcomes[label] = (outcomes[label] ?? 0) + 1;
  });
  const ok = answers.filter((answer) => answer.ok).length;
  return {
    target: 'rpc',
    durationMs: Math.round(Math.max(0, ...answers.map((a) => a.atMs + a.latencyMs))),
    sent: answers.length,
    ok,
    failed: answers.length - ok,
    dropped: 0,
    outcomes,
    latency: latency.summary(),
    serviceLatency: latency.summary(),
    lateness: pacing.summary(),
    pacing: pacing.summary(),
    bursts: tracker.summary(),
    series: series.toJSON(),
    warnings: [],
    recorded: {
      latency: latency.encode(),
      serviceLatency: latency.encode(),
      lateness: pacing.encode(),
      pacing: pacing.encode(),
      bucketMs,
      series: series.encode(),
      bursts: tracker.encode(),
    },
  };
}

/** A schedule's answers split over `count` generators, each turned into a part through JSON, as a file would carry it. */
function partsOf(offsets: number[], count: number, seed = 7) {
  const rng = createRng(seed);
  const answers = offsets.map((atMs) => ({
    atMs,
    latencyMs: 1 + rng() ** 3 * 800,
    ok: rng() > 0.1,
  }));
  const parts = Array.from({ length: count }, (_, index) => {
    const share = segmentOf(offsets, { index, count });
    const part = toPart(
      {
        name: 'load',
        segment: { index, count },
        schedule: {
          arrivals: offsets.length,
          fingerprint: scheduleFingerprint(offsets),
          largestBurst: 350,
        },
        startAt: 1_800_000_000_000,
        target: 'rpc',
        url: 'http://127.0.0.1:8080',
        timeScale: 1,
        maxOutstanding: 10_000,
      },
      resultOf(Array.from(share.indices, (k) => answers[k]!)),
    );
    return parsePart(JSON.stringify(part), `part-${index}.json`);
  });
  return { answers, parts, whole: resultOf(answers) };
}

describe('merging the generators of one run', () => {
  it('equals one generator that sent it all: counts, outcomes, exact percentiles, series', () => {
    const offsets = bursts(2000, 350, 80);
    for (const count of [1, 2, 3, 7]) {
      const { parts, whole } = partsOf(offsets, count);
      const merged = mergeParts(parts);
      const { load } = merged;
      expect(load).toMatchObject({ sent: 2000, ok: whole.ok, failed: whole.failed, dropped: 0 });
      expect(load.outcomes).toEqual(whole.outcomes);
      // Histograms added: the same percentiles (and max, mean) as all latencies in one.
      expect(load.latency).toEqual(whole.latency);
      expect(load.series).toEqual(whole.series);
      expect(load.bursts).toEqual(whole.bursts);
      expect(merged.generators.map((g) => g.segment)).toEqual(
        Array.from({ length: count }, (_, i) => `${i}/${count}`),
      );
      expect(merged.generators.reduce((sum, g) => sum + g.sent, 0)).toBe(2000);
    }
  });

  it('names a missing segment, a duplicate, and a result of another run', () => {
    const { parts } = partsOf(constant(100, 3000), 3);
    const problems = (list: typeof parts) => {
      try {
        mergeParts(list);
      } catch (error) {
        expect(error).toBeInstanceOf(PartError);
        return (error as PartError).problems;
      }
      throw new Error('merged');
    };
    expect(problems([parts[0]!, parts[2]!])).toEqual(['segment 1/3 is missing']);
    expect(problems([parts[0]!, parts[1]!, { ...parts[1]!, source: 'copy.json' }])).toEqual([
      'segment 1/3 appears twice: part-1.json and copy.json',
      'segment 2/3 is missing',
    ]);
    const other = partsOf(constant(120, 3000), 3).parts[2]!;
    expect(problems([parts[0]!, parts[1]!, { ...other, source: 'other.json' }])).toEqual([
      expect.stringMatching(
        /^other\.json is not part of the same run as part-0\.json: its schedule is/,
      ),
    ]);
    expect(problems([])).toEqual(['no generator results to merge']);
  });

  it('refuses a file that is not a generator result, naming each bad field', () => {
    expect(() => parsePart('{', 'x.json')).toThrow(/x\.json: not JSON/);
    const { parts } = partsOf(constant(10, 1000), 1);
    const broken = JSON.parse(JSON.stringify(parts[0]!.part)) as LoadPart & { extra?: unknown };
    (broken.result as { sent: unknown }).sent = -1;
    (broken.segment as { count: unknown }).count = 'one';
    try {
      parsePart(JSON.stringify(broken), 'broken.json');
      throw new Error('parsed');
    } catch (error) {
      const { problems } = error as PartError;
      expect(problems.some((p) => p.startsWith('broken.json: result.sent'))).toBe(true);
      expect(problems.some((p) => p.startsWith('broken.json: segment.count'))).toBe(true);
    }
  });

  it('judges thresholds on the merged run: the scenario’s that name it, and given ones', () => {
    const { parts, whole } = partsOf(bursts(900, 150, 200), 3);
    const merged = mergeParts(parts);
    const result = mergedExperiment(
      merged,
      {
        name: 's',
        load: { kind: 'bursts', total: 900, burst: 150, gapMs: 200 },
        runs: [
          { name: 'load', target: 'http' },
          { name: 'other', target: 'http' },
        ],
        thresholds: [
          'load.failed < 1',
          'other.p99_ms < 1',
          `load.p99_ms <= ${whole.latency.p99Ms}`,
        ],
      },
      ['load.ok >= 1', 'load.retries == 0'],
    );
    expect(result.thresholds).toEqual([
      { expression: 'load.failed < 1', value: whole.failed, passed: false },
      {
        expression: `load.p99_ms <= ${whole.latency.p99Ms}`,
        value: whole.latency.p99Ms,
        passed: true,
      },
      { expression: 'load.ok >= 1', value: whole.ok, passed: true },
      // Not measured by a load run: no value, and so not passed.
      { expression: 'load.retries == 0', value: null, passed: false },
    ]);
    const [run] = result.runs;
    expect(run).toMatchObject({ target: 'http', loadTarget: 'rpc', sent: 900, retries: null });
    expect(run!.generators).toHaveLength(3);
  });
});
