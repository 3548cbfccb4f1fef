import { type Static, Type } from 'typebox';
import { ScheduleSpec } from '../schedule/schedule.ts';
import { fieldPathPattern, SweepValue } from './sweep-spec.ts';

/** The same values a sweep sets a field to. */
const TuneValue = SweepValue;
export type TuneValue = Static<typeof TuneValue>;

/**
 * A field of the tuned run by its path within the run (`policy.maxRetries`,
 * `policy.preset`, `worker.concurrency`): its choices, or a range sampled uniformly.
 */
export const TuneField = Type.Object(
  {
    path: Type.String({ pattern: fieldPathPattern, maxLength: 200 }),
    values: Type.Optional(Type.Array(TuneValue, { minItems: 1, maxItems: 50 })),
    range: Type.Optional(
      Type.Object(
        { from: Type.Number(), to: Type.Number(), integer: Type.Optional(Type.Boolean()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TuneField = Static<typeof TuneField>;

export const objectiveNames = ['goodput', 'p99', 'amplification'] as const;
export type ObjectiveName = (typeof objectiveNames)[number];

export const TuneSpec = Type.Object(
  {
    /** The run whose policy is searched, by name (default: the first run). */
    run: Type.Optional(Type.String({ maxLength: 100 })),
    fields: Type.Array(TuneField, { minItems: 1, maxItems: 10 }),
    /** goodput up, p99 down, amplification down (default: all three). */
    objectives: Type.Optional(
      Type.Array(Type.Enum([...objectiveNames]), { minItems: 1, maxItems: 3, uniqueItems: true }),
    ),
    /** A candidate that breaks one is not on the front, whatever its objectives. */
    constraints: Type.Optional(
      Type.Object(
        {
          /** events: no accepted job lost (default true). */
          nothingLost: Type.Optional(Type.Boolean()),
          /** The recovery verdict is stable or recovered (default false: not required). */
          recovered: Type.Optional(Type.Boolean()),
          /** fail ÷ sent at most this. */
          maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Candidates at the first rung, the run's own policy among them (default 12). */
    candidates: Type.Optional(Type.Integer({ minimum: 2, maximum: 100 })),
    /** Repeats at each rung of successive halving; a third go on at each (default [1, 3, 5]). */
    rungs: Type.Optional(
      Type.Array(Type.Integer({ minimum: 1, maximum: 20 }), { minItems: 1, maxItems: 5 }),
    ),
    /** A load the search never saw: the recommendation and `safe` re-run on it side by side. */
    generalise: Type.Optional(
      Type.Object(
        { load: ScheduleSpec, repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TuneSpec = Static<typeof TuneSpec>;

export const tuneDefaults = { candidates: 12, rungs: [1, 3, 5] };

/** Problems of a tune block the schema cannot see: `values` or `range`, each path once. */
export function tuneFieldProblems(fields: TuneField[], where: string): string[] {
  const problems: string[] = [];
  fields.forEach((field, index) => {
    const has = [field.values, field.range].filter((x) => x !== undefined).length;
    if (has !== 1)
      problems.push(
        `${where}[${index}]: give either values or range (from, to), ${has === 0 ? 'not neither' : 'not both'}`,
      );
    if (field.range && field.range.from > field.range.to)
      problems.push(`${where}[${index}].range: from must be ≤ to`);
  });
  const paths = fields.map((field) => field.path);
  for (const path of new Set(paths.filter((path, i) => paths.indexOf(path) !== i)))
    problems.push(`${where}: ${path} is given twice`);
  return problems;
}
