import { type Static, Type } from 'typebox';
import { ModelUpdate } from '../../services/downstream/failure-model.ts';
import { FaultSpec } from '../../services/downstream/faults.ts';
import { PolicyUpdate } from '../../services/gateway/policy.ts';
import { ProducerPolicy } from '../../services/shared/event-job.ts';
import { strictPartial } from '../../services/shared/schemas.ts';
import { SubscriberName } from '../../services/shared/topic.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import { parseThreshold } from './thresholds.ts';

export const name = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });

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
