import { createRng } from '../../services/shared/rng.ts';
import type { ServiceRun } from '../scenario/runs.ts';
import type { TuneField, TuneValue } from '../scenario/tune-spec.ts';
import { setPath } from '../sweep/grid.ts';

/** A policy to try: a value for each searched field (none: the run as the scenario gives it). */
export interface Candidate {
  id: string;
  values: Record<string, TuneValue>;
}

/** The candidate that changes nothing: the scenario's own policy, the reference. */
export const givenId = 'given';

export const candidateLabel = (candidate: Pick<Candidate, 'id' | 'values'>): string => {
  const entries = Object.entries(candidate.values);
  return entries.length === 0
    ? 'as given'
    : entries.map(([path, value]) => `${path}=${String(value)}`).join(' · ');
};

/** Every combination of listed values, or undefined when a field is a range or there are more than `limit`. */
function grid(
  fields: readonly TuneField[],
  limit: number,
): Array<Record<string, TuneValue>> | undefined {
  if (fields.some((field) => !field.values)) return undefined;
  const size = fields.reduce((product, field) => product * field.values!.length, 1);
  if (size > limit) return undefined;
  return fields.reduce<Array<Record<string, TuneValue>>>(
    (combinations, field) =>
      combinations.flatMap((combination) =>
        field.values!.map((value) => ({ ...combination, [field.path]: value })),
      ),
    [{}],
  );
}

/**
 * The first rung's candidates: the run as given, then the whole grid of listed values when it
 * fits in `count − 1`, else `count − 1` distinct seeded draws (listed values uniformly, ranges
 * uniformly, integer ranges rounded). The same seed gives the same candidates.
 */
export function candidatesOf(
  fields: readonly TuneField[],
  count: number,
  seed: number,
): Candidate[] {
  const rng = createRng(seed);
  const draw = (field: TuneField): TuneValue => {
    if (field.values) return field.values[Math.floor(rng() * field.values.length)]!;
    const { from, to, integer } = field.range!;
    const value = from + rng() * (to - from);
    return integer ? Math.round(value) : Math.round(value * 1e6) / 1e6;
  };
  const seen = new Set<string>();
  const drawn: Array<Record<string, TuneValue>> = [];
  const all = grid(fields, count - 1);
  if (all) drawn.push(...all);
  else
    for (let attempt = 0; drawn.length < count - 1 && attempt < count * 50; attempt += 1) {
      const values = Object.fromEntries(fields.map((field) => [field.path, draw(field)]));
      const key = JSON.stringify(values);
      if (seen.has(key)) continue;
      seen.add(key);
      drawn.push(values);
    }
  const width = String(drawn.length).length;
  return [
    { id: givenId, values: {} },
    ...drawn.map((values, index) => ({ id: `c${String(index + 1).padStart(width, '0')}`, values })),
  ];
}

/** The run with a candidate's values set, named after the candidate. */
export function runOf<R extends ServiceRun>(run: R, candidate: Candidate): R {
  let changed = run;
  for (const [path, value] of Object.entries(candidate.values))
    changed = setPath(changed, path, value);
  return { ...changed, name: candidate.id };
}
