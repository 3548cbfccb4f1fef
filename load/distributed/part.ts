import { type Static, Type } from 'typebox';
import Value from 'typebox/value';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { type LoadResult } from '../generator/recording.ts';
import { type Scenario } from '../scenario/shape.ts';
import { scenarioProblems } from '../scenario/problems.ts';
import { maxGenerators, type Segment, segmentLabel } from './segment.ts';
import { ProblemsError } from '../../services/shared/problems.ts';

/** The file format of one generator's share of a distributed run; merge refuses any other. */
export const partFormat = 'cascade-lab/load-part@1';

const count = Type.Integer({ minimum: 0 });
const encoded = Type.String({ pattern: '^\\d+~[A-Za-z0-9+/=]+$' });

/** What a merge reads of a part (the rest of `result` is this generator's own summary, for people). */
export const LoadPartSchema = Type.Object({
  format: Type.Literal(partFormat),
  /** The run's name: a scenario's run, or `load`. */
  name: Type.String({ minLength: 1, maxLength: 200 }),
  segment: Type.Object(
    {
      index: Type.Integer({ minimum: 0, maximum: maxGenerators - 1 }),
      count: Type.Integer({ minimum: 1, maximum: maxGenerators }),
    },
    { additionalProperties: false },
  ),
  /** The whole schedule every segment was cut from. */
  schedule: Type.Object(
    {
      arrivals: count,
      fingerprint: Type.String(),
      largestBurst: count,
      /** How it was given (`load --schedule`), for the report. */
      spec: Type.Optional(Type.Unknown()),
    },
    { additionalProperties: false },
  ),
  /** The shared start (epoch ms), or null when this generator started on its own. */
  startAt: Type.Union([Type.Number(), Type.Null()]),
  target: Type.Union([Type.Literal('rpc'), Type.Literal('events'), Type.Literal('http')]),
  url: Type.String(),
  timeScale: Type.Number({ minimum: 1, maximum: 100 }),
  maxOutstanding: Type.Integer({ minimum: 1 }),
  /** An experiment's run (`experiment --segment`): its scenario, whose thresholds judge the merge. */
  scenario: Type.Optional(Type.Unknown()),
  /**
   * The coordinator's (segment 0 of an experiment's rpc or events run): what it observed
   * of the services, one per row, everything a summary needs but the load.
   */
  rows: Type.Optional(
    Type.Array(
      Type.Object({
        name: Type.String(),
        target: Type.Union([Type.Literal('rpc'), Type.Literal('events')]),
        before: Type.Record(Type.String(), Type.Object({ samples: Type.Array(Type.Unknown()) })),
        after: Type.Record(Type.String(), Type.Object({ samples: Type.Array(Type.Unknown()) })),
      }),
    ),
  ),
  result: Type.Object({
    durationMs: count,
    sent: count,
    ok: count,
    failed: count,
    dropped: count,
    outcomes: Type.Record(Type.String(), count),
    warnings: Type.Array(Type.String()),
    pacing: Type.Object({ p99Ms: Type.Union([Type.Number(), Type.Null()]) }),
    lateness: Type.Object({ p99Ms: Type.Union([Type.Number(), Type.Null()]) }),
    bursts: Type.Union([Type.Null(), Type.Object({ spreadP50Ms: Type.Number() })]),
    recorded: Type.Object({
      latency: encoded,
      serviceLatency: encoded,
      lateness: encoded,
      pacing: encoded,
      bucketMs: Type.Number({ exclusiveMinimum: 0 }),
      series: Type.Array(
        Type.Object({ sent: count, ok: count, failed: count, dropped: count, latency: encoded }),
      ),
      bursts: Type.Object({
        size: count,
        scheduledMs: Type.Array(Type.Number()),
        firstMs: Type.Array(Type.Union([Type.Number(), Type.Null()])),
        lastMs: Type.Array(Type.Union([Type.Number(), Type.Null()])),
      }),
    }),
  }),
});

export type LoadPart = Omit<Static<typeof LoadPartSchema>, 'result' | 'rows' | 'scenario'> & {
  segment: Segment;
  result: LoadResult & { recorded: NonNullable<LoadResult['recorded']> };
  scenario?: Scenario;
  /** An experiment's coordinator's observations of the services (experiment/split-run.ts). */
  rows?: unknown[];
};

/** What a part says besides its generator's result. */
export type PartMeta = Omit<LoadPart, 'format' | 'result'>;

/** A generator's result as a part (it must have been run with `record: true`). */
export function toPart(meta: PartMeta, result: LoadResult): LoadPart {
  if (!result.recorded) throw new Error('a part needs a result run with record: true');
  return { format: partFormat, ...meta, result: result as LoadPart['result'] };
}

/** A part as read, with where it came from (a file, or a Redis entry) for messages. */
export interface SourcedPart {
  part: LoadPart;
  source: string;
}

/** Parses a part's JSON; every problem named, with its source. */
export function parsePart(text: string, source: string): SourcedPart {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PartError([`${source}: not JSON (${(error as Error).message})`]);
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== partFormat)
    throw new PartError([
      `${source}: not a generator's result (format ${JSON.stringify(format)}, expected "${partFormat}"; write one with cascade-lab load --segment i/n --out FILE)`,
    ]);
  const problems = formatIssues(Value.Errors(LoadPartSchema, value), '');
  if (problems.length > 0) throw new PartError(problems.map((problem) => `${source}: ${problem}`));
  const part = value as LoadPart;
  if (part.scenario !== undefined) {
    const problems = scenarioProblems(part.scenario);
    if (problems.length > 0)
      throw new PartError(problems.map((problem) => `${source}: scenario: ${problem}`));
  }
  if (part.segment.index >= part.segment.count)
    throw new PartError([`${source}: segment ${segmentLabel(part.segment)} does not exist`]);
  return { part, source };
}

/** Parts that do not make one run: every problem, one line each. */
export class PartError extends ProblemsError {}
