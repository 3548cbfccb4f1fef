import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { taggedUnionProblems } from '../../services/shared/schemas.ts';
import { ScheduleSpec } from './schedule.ts';

/** The article's load: 2 000 requests in bursts of 350 every 80 ms. */
export const seedSchedule = 'bursts:total=2000,burst=350,gapMs=80';

/** Parses `kind:key=value,…` into a validated schedule spec, or every problem with it. */
export function parseScheduleArg(text: string): { spec?: ScheduleSpec; problems: string[] } {
  const [kind, rest = ''] = text.split(':', 2);
  const candidate: Record<string, unknown> = { kind };
  for (const pair of rest.split(',').filter(Boolean)) {
    const [key, value] = pair.split('=', 2);
    if (key === undefined || value === undefined || key === '') {
      return { problems: [`schedule: "${pair}" is not key=value`] };
    }
    candidate[key] = Number.isFinite(Number(value)) ? Number(value) : value;
  }
  if (kind === 'stages' || kind === 'spike') {
    return {
      problems: [`schedule: ${kind} needs a scenario file; use bursts, constant or ramp here`],
    };
  }
  const problems = taggedUnionProblems(
    ScheduleSpec,
    candidate,
    'kind',
    'schedule',
    (variant, value, path) => formatIssues(Value.Errors(variant as TSchema, value), path),
  );
  if (problems.length > 0) return { problems };
  return { spec: candidate as ScheduleSpec, problems: [] };
}
