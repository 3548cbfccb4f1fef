import { readFileSync } from 'node:fs';
import { type Static, type TSchema, Type } from 'typebox';
import Value from 'typebox/value';
import { parseDocument } from 'yaml';
import { ModelUpdate } from '../../services/downstream/failure-model.ts';
import { FaultSpec, faultSpecProblem } from '../../services/downstream/faults.ts';
import { PolicyUpdate } from '../../services/gateway/policy.ts';
import { failureStatusesPattern } from '../../services/gateway/forward-transport.ts';
import { ProducerPolicy } from '../../services/shared/event-job.ts';
import { formatIssues } from '../../services/shared/schema-errors.ts';
import { strictPartial, taggedUnionProblems } from '../../services/shared/schemas.ts';
import { SubscriberName } from '../../services/shared/topic.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import { parseThreshold, thresholdPattern } from './thresholds.ts';
import { ScheduleSpec } from '../schedule/schedule.ts';
import { defaultMaxOutstanding } from '../generator/recording.ts';
import { HttpRequestSpec } from '../generator/http-target.ts';
import { type SweepField, SweepSpec, sweepFieldProblems } from './sweep-spec.ts';

const name = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });

/** A run's own downstream model fields, over the scenario's (`downstream`). */
const RunDownstream = Type.Optional(ModelUpdate);

/** A fault from the timeline: one of the downstream's timed faults, `at` ms after the load starts. */
export const TimedFault = Type.Object(
  { at: Type.Number({ minimum: 0, maximum: 3_600_000 }), ...FaultSpec.properties },
  { additionalProperties: false },
);

/** A run's own fault timeline, instead of the scenario's (`faults: []`: none for this run). */
const RunFaults = Type.Optional(Type.Array(TimedFault, { maxItems: 100 }));

export const RpcRun = Type.Object(
  {
    name,
    target: Type.Literal('rpc'),
    policy: Type.Optional(PolicyUpdate),
    downstream: RunDownstream,
    faults: RunFaults,
  },
  { additionalProperties: false },
);

/** One subscriber of a topic run: its name, its own retries and worker policy. */
export const SubscriberRun = Type.Object(
  {
    name: SubscriberName,
    maxRetries: Type.Optional(ProducerPolicy.properties.maxRetries),
    worker: Type.Optional(strictPartial(WorkerPolicy)),
  },
  { additionalProperties: false },
);

export const EventsRun = Type.Object(
  {
    name,
    target: Type.Literal('events'),
    producer: Type.Optional(strictPartial(ProducerPolicy)),
    worker: Type.Optional(strictPartial(WorkerPolicy)),
    downstream: RunDownstream,
    faults: RunFaults,
    /**
     * Publish to a topic with these subscribers, a worker each (on a fresh local stack);
     * the table has a row per subscriber, `<run>-<subscriber>`.
     */
    subscribers: Type.Optional(Type.Array(SubscriberRun, { minItems: 1, maxItems: 10 })),
    /**
     * SIGKILL a worker `at` ms after the load starts (the first, or the subscriber's) and
     * start another in its place, as an orchestrator would (on a fresh local stack): its
     * jobs are redelivered once their lock lapses, and their calls may be made twice.
     */
    killWorker: Type.Optional(
      Type.Object(
        {
          at: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
          subscriber: Type.Optional(SubscriberName),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** The rows a run makes in the table: itself, or one per subscriber of its topic. */
export const rowNames = (run: Run): string[] =>
  run.target === 'events' && run.subscribers
    ? run.subscribers.map((subscriber) => `${run.name}-${subscriber.name}`)
    : [run.name];
/**
 * The scenario's own service straight, with no gateway and no proxy in the way: the same
 * load at it, and what the load generator saw (the services' counts are not measured).
 */
export const HttpRun = Type.Object(
  { name, target: Type.Literal('http') },
  { additionalProperties: false },
);

export const Run = Type.Union([RpcRun, EventsRun, HttpRun]);
export type Run = Static<typeof Run>;
/** A run through our own services (a stack): everything but a run straight at another service. */
export type ServiceRun = Exclude<Run, { target: 'http' }>;

/**
 * A threshold on a topic run's own name stands for one on each of its rows
 * (`fanout.lost == 0`: no subscriber lost an event). Comparing two topic runs pairs
 * their rows by subscriber.
 */
export function thresholdsPerRow(runs: Run[], thresholds: string[]): string[] {
  const subscribersOf = (runName: string) => {
    const run = runs.find((candidate) => candidate.name === runName);
    return run?.target === 'events' && run.subscribers
      ? run.subscribers.map((subscriber) => subscriber.name)
      : undefined;
  };
  return thresholds.flatMap((expression) => {
    const parsed = parseThreshold(expression);
    if (!parsed) return [expression];
    const left = subscribersOf(parsed.run);
    const right = parsed.other && subscribersOf(parsed.other.run);
    const names = left && right ? left.filter((name) => right.includes(name)) : (left ?? right);
    if (!names) return [expression];
    const side = (runName: string, subscribers: string[] | undefined, name: string) =>
      subscribers ? `${runName}-${name}` : runName;
    return names.map((name) => {
      const lhs = `${side(parsed.run, left, name)}.${parsed.metric}`;
      const rhs = parsed.other
        ? `${side(parsed.other.run, right, name)}.${parsed.other.metric}`
        : String(parsed.limit);
      return `${lhs} ${parsed.operator} ${rhs}`;
    });
  });
}

/**
 * The scenario as it runs on a stack whose producer publishes to a topic with these
 * subscribers (`cascade-lab up`, compose): every events run gets a row per subscriber.
 */
export function onTopic(scenario: Scenario, subscribers: string[]): Scenario {
  if (subscribers.length === 0) return scenario;
  return {
    ...scenario,
    runs: scenario.runs.map((run) =>
      run.target === 'events'
        ? { ...run, subscribers: subscribers.map((name) => ({ name })) }
        : run,
    ),
  };
}

/** A window the load itself makes (a spike): nothing is injected; it is shaded and recovery is timed from its end. */
export const Trigger = Type.Object(
  {
    at: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    durationMs: Type.Number({ exclusiveMinimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);

/** The scales `auto` tries, smallest first. */
export const autoTimeScales = [1, 2, 4, 8] as const;
export const TimeScale = Type.Union([
  Type.Number({ minimum: 1, maximum: 100 }),
  Type.Literal('auto'),
]);
export const Repeat = Type.Integer({ minimum: 1, maximum: 50 });

/** A service of yours behind the stack's gateway and proxy (docs/own-service.md). */
export const OwnService = Type.Object(
  {
    /** Its origin, with a base path if it has one: `http://127.0.0.1:3000`. */
    url: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' }),
    /** What each arrival asks of it (the path is its own; the gateway's `/proxy` goes before it). */
    request: HttpRequestSpec,
    /** The gateway's FAILURE_STATUSES: which of its answers are failures (retried). */
    failureStatuses: Type.Optional(Type.String({ pattern: failureStatusesPattern })),
    /** The downstream's PROXY_MODEL: its load-dependent model on top of the service's own behaviour. */
    model: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type OwnService = Static<typeof OwnService>;

const ScenarioShape = Type.Object(
  {
    name,
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    downstream: Type.Optional(ModelUpdate),
    faults: Type.Optional(Type.Array(TimedFault, { maxItems: 100 })),
    trigger: Type.Optional(Trigger),
    /** Every time constant × k (wall time), reported back ÷ k (model time); `auto` picks k. */
    timeScale: Type.Optional(TimeScale),
    /** Each run this many times, interleaved; medians and 95 % intervals. */
    repeat: Type.Optional(Repeat),
    load: Type.Unknown(),
    maxOutstanding: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, default: defaultMaxOutstanding }),
    ),
    drainTimeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 3_600_000 })),
    runs: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 20 }),
    thresholds: Type.Optional(
      Type.Array(Type.String({ pattern: thresholdPattern }), { maxItems: 100 }),
    ),
    /** `cascade-lab sweep`: the fields it varies, and the verdict rule (ignored by `experiment`). */
    sweep: Type.Optional(SweepSpec),
    /**
     * Your own service: each rpc run's load goes through the gateway (`/proxy`) and the
     * downstream in proxy mode (its faults) to it, instead of to the downstream's model.
     */
    service: Type.Optional(OwnService),
  },
  { additionalProperties: false },
);
export type Scenario = Omit<Static<typeof ScenarioShape>, 'runs' | 'load'> & {
  runs: Run[];
  load: ScheduleSpec;
};

/** The generator's cap on requests in flight for a scenario's runs (its default from the schema). */
export const maxOutstandingOf = (scenario: Pick<Scenario, 'maxOutstanding'>): number =>
  scenario.maxOutstanding ?? defaultMaxOutstanding;

export class ScenarioError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file}: invalid scenario:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.problems = problems;
  }
}

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

/** Parses and validates a scenario; throws a ScenarioError listing every problem. */
export function parseScenario(text: string, file = 'scenario'): Scenario {
  // `<<` merge keys are YAML 1.1; scenario files use them to share a policy between runs.
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((error) => `YAML: ${error.message.split('\n')[0]}`),
    );
  }
  const value: unknown = document.toJS();
  const problems = scenarioProblems(value);
  if (problems.length > 0) throw new ScenarioError(file, problems);
  return value as Scenario;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), file);
}
