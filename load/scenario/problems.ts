import { type TSchema } from 'typebox';
import Value from 'typebox/value';
import { FaultSpec, faultSpecProblem } from '../../services/downstream/faults.ts';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { taggedUnionProblems } from '../../services/shared/schemas.ts';
import { parseThreshold } from './thresholds.ts';
import { ScheduleSpec } from '../schedule/schedule.ts';
import { type SweepField, sweepFieldProblems } from './sweep-spec.ts';
import { type TuneField, tuneFieldProblems } from './tune-spec.ts';
import { Run } from './runs.ts';
import { requestProblems } from '../generator/http-target.ts';
import { type Scenario, ScenarioShape } from './shape.ts';

const problemsOf = (schema: TSchema, value: unknown, path: string) =>
  formatIssues(Value.Errors(schema, value), path);

/** rowNames of a run not yet validated, for the checks on names. */
function uncheckedRowNames(run: unknown): unknown[] {
  const { name, subscribers } = (run ?? {}) as { name?: unknown; subscribers?: unknown };
  if (!Array.isArray(subscribers)) return [name];
  return subscribers.map(
    (subscriber: { name?: unknown } | null) => `${String(name)}-${String(subscriber?.name)}`,
  );
}

/** Every problem of a scenario, one line each, naming its path (`runs[1].policy.backoff.capMs: must be >= 0`). */
export function scenarioProblems(value: unknown): string[] {
  const problems = problemsOf(ScenarioShape, value, '');
  const scenario = value as Partial<Scenario> | undefined;
  if (scenario?.load === undefined)
    problems.push('load: missing (a schedule: bursts, constant, ramp or stages)');
  else
    problems.push(
      ...taggedUnionProblems(ScheduleSpec, scenario.load, 'kind', 'load', (variant, v, path) =>
        problemsOf(variant, v, path),
      ),
    );
  const load = scenario?.load as { kind?: unknown; durationMs?: unknown; spike?: unknown };
  if (load?.kind === 'spike' && problems.every((line) => !line.startsWith('load'))) {
    const { at, durationMs } = load.spike as { at: number; durationMs: number };
    if (at + durationMs >= (load.durationMs as number))
      problems.push(
        `load.spike: ends at ${at + durationMs} ms, not before the load does (durationMs ${String(load.durationMs)}): there would be nothing to recover in`,
      );
  }
  if (scenario?.service === undefined && Array.isArray(scenario?.runs))
    scenario.runs.forEach((run, index) => {
      if ((run as { target?: unknown } | null)?.target === 'http')
        problems.push(
          `runs[${index}].target: an http run sends the load straight to the scenario's service: add service: {url, request}`,
        );
    });
  // Past the schema only: a request it refused is not read further.
  const request = scenario?.service?.request;
  if (request && problems.every((line) => !line.startsWith('service')))
    problems.push(...requestProblems(request, 'service.request'));
  if (scenario?.service !== undefined && Array.isArray(scenario.runs))
    scenario.runs.forEach((run, index) => {
      if ((run as { target?: unknown } | null)?.target === 'events')
        problems.push(
          `runs[${index}].target: a scenario with a service runs rpc runs only (its load goes through the gateway to your service), not events`,
        );
    });
  const sweepFields = (scenario as { sweep?: { fields?: unknown } } | undefined)?.sweep?.fields;
  if (Array.isArray(sweepFields) && problems.every((line) => !line.startsWith('sweep')))
    problems.push(...sweepFieldProblems(sweepFields as SweepField[], 'sweep.fields'));
  problems.push(...tuneProblems(scenario, problems));
  // What the schema can't say about a fault (the downstream would refuse it mid-run).
  const timelines: Array<[string, unknown]> = [
    ['faults', scenario?.faults],
    ...(Array.isArray(scenario?.runs)
      ? scenario.runs.map((run, index): [string, unknown] => [
          `runs[${index}].faults`,
          (run as { faults?: unknown } | null)?.faults,
        ])
      : []),
  ];
  for (const [path, faults] of timelines)
    if (Array.isArray(faults))
      faults.forEach((fault: FaultSpec | null, index) => {
        const problem = fault && typeof fault === 'object' ? faultSpecProblem(fault) : undefined;
        if (problem) problems.push(`${path}[${index}]: ${problem}`);
      });
  if (Array.isArray(scenario?.runs)) {
    scenario.runs.forEach((run, index) => {
      problems.push(
        ...taggedUnionProblems(Run, run, 'target', `runs[${index}]`, (variant, v, path) =>
          problemsOf(variant, v, path),
        ),
      );
    });
    scenario.runs.forEach((run, index) => {
      const { killWorker, subscribers } = (run ?? {}) as {
        killWorker?: { subscriber?: unknown };
        subscribers?: Array<{ name?: unknown }>;
      };
      const victim = killWorker?.subscriber;
      if (
        victim !== undefined &&
        !(Array.isArray(subscribers) && subscribers.some((s) => s?.name === victim))
      )
        problems.push(
          `runs[${index}].killWorker.subscriber: ${JSON.stringify(victim)} is not one of the run's subscribers`,
        );
    });
    const names = scenario.runs.flatMap(uncheckedRowNames);
    const duplicate = names.find((runName, index) => names.indexOf(runName) !== index);
    if (duplicate !== undefined)
      problems.push(`runs: the name ${JSON.stringify(duplicate)} is used twice`);
    // A threshold may name a row, or a run (a topic run's name: each of its rows).
    const namable = [...names, ...scenario.runs.map((run) => run?.name)];
    for (const [index, threshold] of (scenario.thresholds ?? []).entries()) {
      const parsed = typeof threshold === 'string' ? parseThreshold(threshold) : undefined;
      for (const named of [parsed?.run, parsed?.other?.run])
        if (named !== undefined && !namable.includes(named))
          problems.push(`thresholds[${index}]: no run is named "${named}"`);
      if (parsed?.other && parsed.other.metric !== parsed.metric)
        problems.push(
          `thresholds[${index}]: two runs are compared on one figure (${parsed.metric} against ${parsed.other.metric})`,
        );
    }
  }
  return problems.map((line) => line.replace(/^\(root\)/, 'scenario'));
}

/** What the schema can't say about a `tune` block: its fields, and the run it names. */
function tuneProblems(scenario: Partial<Scenario> | undefined, found: string[]): string[] {
  const tune = (scenario as { tune?: { fields?: unknown; run?: unknown } } | undefined)?.tune;
  if (!tune || found.some((line) => line.startsWith('tune'))) return [];
  const problems = Array.isArray(tune.fields)
    ? tuneFieldProblems(tune.fields as TuneField[], 'tune.fields')
    : [];
  const runs = Array.isArray(scenario?.runs) ? (scenario.runs as Array<Partial<Run> | null>) : [];
  const tuned = tune.run === undefined ? runs[0] : runs.find((run) => run?.name === tune.run);
  if (tuned === undefined && typeof tune.run === 'string')
    problems.push(`tune.run: no run is named "${tune.run}"`);
  else if (tuned?.target === 'http')
    problems.push(
      `tune.run: ${tuned.name ?? 'the first run'} goes straight to your service: it has no policy of ours to tune`,
    );
  return problems;
}
