import { type Static, Type } from 'typebox';

/** A field of the scenario by its path: `load.ratePerSecond`, `runs[0].policy.maxRetries`. */
export const fieldPathPattern = '^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*|\\[[0-9]+\\])*$';

/** A value a field of a scenario can be set to by a sweep or a tune. */
export const SweepValue = Type.Union([
  Type.Number(),
  Type.String({ maxLength: 200 }),
  Type.Boolean(),
]);
export type SweepValue = Static<typeof SweepValue>;

/** One swept field: its path, and its values listed or as an evenly spaced range (ends included). */
export const SweepField = Type.Object(
  {
    path: Type.String({ pattern: fieldPathPattern, maxLength: 200 }),
    values: Type.Optional(Type.Array(SweepValue, { minItems: 1, maxItems: 20 })),
    range: Type.Optional(
      Type.Object(
        {
          from: Type.Number(),
          to: Type.Number(),
          steps: Type.Integer({ minimum: 2, maximum: 20 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SweepField = Static<typeof SweepField>;

/** What each repeat of a cell is judged by (model time): see verdict.ts. */
export const VerdictRule = Type.Object(
  {
    /** A window is healthy when at least this share of the answers in it were ok. */
    goodputRatio: Type.Optional(Type.Number({ minimum: 0.01, maximum: 1 })),
    /** The window the share is taken over, sliding by the series' 100 ms buckets. */
    windowMs: Type.Optional(Type.Number({ minimum: 100, maximum: 60_000 })),
    /** A recovery counts once every window stays healthy this long. */
    holdMs: Type.Optional(Type.Number({ minimum: 0, maximum: 600_000 })),
    /**
     * How long after the trigger a recovery may start and still be seen: each cell's load
     * must go on windowMs + holdMs + settleMs after its trigger, so that such a recovery is seen.
     */
    settleMs: Type.Optional(Type.Number({ minimum: 0, maximum: 3_600_000 })),
  },
  { additionalProperties: false },
);
export type VerdictRule = Required<Static<typeof VerdictRule>>;

/**
 * 90 % of answers ok over half a second, held for a second (the recovery rule of a single
 * run, smoothed), seen if it starts within 2 s of the trigger's end.
 */
export const defaultVerdictRule: VerdictRule = {
  goodputRatio: 0.9,
  windowMs: 500,
  holdMs: 1000,
  settleMs: 2000,
};

export const SweepSpec = Type.Object(
  {
    /** One field (lines against it) or two (a map: the first across, the second down). */
    fields: Type.Array(SweepField, { minItems: 1, maxItems: 2 }),
    verdict: Type.Optional(VerdictRule),
  },
  { additionalProperties: false },
);
export type SweepSpec = Static<typeof SweepSpec>;

/** The most cells a sweep may have (20 × 20). */
export const maxCells = 400;

/** A field's values: as listed, or `steps` from `from` to `to`, ends included. */
export function valuesOf(field: SweepField): SweepValue[] {
  if (field.values) return field.values;
  const { from, to, steps } = field.range!;
  // Rounded to 9 places so that 0.1 steps print as 0.3, not 0.30000000000000004.
  return Array.from(
    { length: steps },
    (_, i) => Math.round((from + ((to - from) * i) / (steps - 1)) * 1e9) / 1e9,
  );
}

/** Problems of a sweep's own fields (not of the cells): `values` or `range`, each path once. */
export function sweepFieldProblems(fields: SweepField[], where: string): string[] {
  const problems: string[] = [];
  fields.forEach((field, index) => {
    const has = [field.values, field.range].filter((x) => x !== undefined).length;
    if (has !== 1)
      problems.push(
        `${where}[${index}]: give either values or range (from, to, steps), ${has === 0 ? 'not neither' : 'not both'}`,
      );
    if (field.path === 'sweep' || field.path.startsWith('sweep.'))
      problems.push(`${where}[${index}].path: a sweep cannot change its own fields`);
  });
  if (fields.length === 2 && fields[0]!.path === fields[1]!.path)
    problems.push(`${where}: ${fields[0]!.path} is swept twice`);
  return problems;
}
