import type { TSchema } from 'typebox';
import { applyModelUpdate, FailureModelParams } from '../../services/downstream/failure-model.ts';
import type { FaultSpec } from '../../services/downstream/faults.ts';
import { applyPolicyUpdate, Policy } from '../../services/gateway/policy.ts';
import { ProducerPolicy } from '../../services/shared/event-job.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import { type Run, TimedFault } from '../scenario/runs.ts';
import { type Scenario, Trigger } from '../scenario/shape.ts';
import { ScheduleSpec, spikeTrigger } from '../schedule/schedule.ts';
import type { StackSettings } from './target.ts';
import { peakArrivals } from '../generator/bursts.ts';
import { defaultVerdictRule, type VerdictRule } from '../scenario/sweep-spec.ts';

/**
 * Time dilation (DieCast, NSDI 2008): every time constant of the model is stretched by
 * k, so counts and in-flight quantities stay what they are while the host's fixed costs
 * (an HTTP hop, an event-loop stall) shrink k-fold against the model. What a field is
 * comes from its name: `…Ms` and `at` are durations (× k), `…Rps` and `…PerSecond` are
 * rates (÷ k), everything else is a count, a ratio or a switch (unchanged).
 */
export type Unit = 'duration' | 'rate' | 'invariant';

/**
 * Named on purpose: a rate that must not be divided. The load factor is
 * inflight ÷ (capacityRps × 0.1 s); at scale k both the rate (÷ k) and the window (× k)
 * would change, and their product, a number of requests, must not.
 */
export const invariantRates: Readonly<Record<string, string>> = {
  capacityRps:
    'the load factor divides in-flight requests by capacity × a 0.1 s window: a count, the same at every scale',
};

export function unitOf(name: string): Unit {
  if (name in invariantRates) return 'invariant';
  if (name === 'at' || name.endsWith('Ms')) return 'duration';
  if (name.endsWith('Rps') || name.endsWith('PerSecond')) return 'rate';
  return 'invariant';
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  const?: unknown;
}

function scaleNumber(name: string, schema: SchemaNode, value: number, k: number): number {
  const unit = unitOf(name);
  const scaled = unit === 'duration' ? value * k : unit === 'rate' ? value / k : value;
  return schema.type === 'integer' && unit !== 'invariant' ? Math.round(scaled) : scaled;
}

/**
 * `value` with every duration × k and every rate ÷ k, walking `schema` (objects, arrays,
 * and unions told apart by a `kind` or `target` literal). Pure; `value` is not changed.
 */
export function scaleBySchema<T>(schema: TSchema, value: T, k: number, name = ''): T {
  const node = schema as SchemaNode;
  if (typeof value === 'number') return scaleNumber(name, node, value, k) as T;
  if (Array.isArray(value) && node.items)
    return value.map((item: unknown) => scaleBySchema(node.items as TSchema, item, k, name)) as T;
  if (value === null || typeof value !== 'object') return value;
  if (node.anyOf) {
    const record = value as Record<string, unknown>;
    const variant = node.anyOf.find((candidate) =>
      Object.entries(candidate.properties ?? {}).every(
        ([key, property]) => property.const === undefined || property.const === record[key],
      ),
    );
    return variant ? scaleBySchema(variant as TSchema, value, k, name) : value;
  }
  const properties = node.properties ?? {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, field]) => [
      key,
      properties[key] ? scaleBySchema(properties[key] as TSchema, field, k, key) : field,
    ]),
  ) as T;
}

/** What the services run with before a run changes anything: their startup model and policies. */
export type Bases = Omit<StackSettings, 'workers'> & { worker: WorkerPolicy };

/** One run of a scenario at scale k, every setting expanded and in wall time: what the runner applies. */
export interface RunPlan {
  timeScale: number;
  /** The downstream's whole model. */
  model: FailureModelParams;
  /** rpc: the gateway's whole policy. */
  gateway?: Policy;
  /** events: the producer's and the workers' whole policies. */
  producer?: ProducerPolicy;
  worker?: WorkerPolicy;
  /** A topic run: each subscriber's worker policy, in the order of its subscribers. */
  subscriberWorkers?: WorkerPolicy[];
  faults: Array<FaultSpec & { at: number }>;
  trigger?: { at: number; durationMs: number };
  load: ScheduleSpec;
  drainTimeoutMs: number;
  /** The runner's own clocks, scaled like the model. */
  bucketMs: number;
  sampleEveryMs: number;
  /** The recovery verdict's rule, its durations scaled (wall time). */
  recoveryRule: VerdictRule;
  /** events: SIGKILL the worker at this index (the stack's order) at this time, and replace it. */
  killWorker?: { at: number; index: number };
}

/** The runner's clocks at scale 1: 100 ms series buckets, a sample every 250 ms. */
export const runnerClocks = {
  bucketMs: 100,
  sampleEveryMs: 250,
};

/**
 * The recovery verdict's rule for a scenario's runs (its `sweep.verdict`, else the default)
 * at scale k: its windows stretched k-fold, like every other time constant.
 */
export function recoveryRuleOf(scenario: Pick<Scenario, 'sweep'>, k: number): VerdictRule {
  const rule = { ...defaultVerdictRule, ...scenario.sweep?.verdict };
  return {
    goodputRatio: rule.goodputRatio,
    windowMs: rule.windowMs * k,
    holdMs: rule.holdMs * k,
    settleMs: rule.settleMs * k,
  };
}

/**
 * The warm-up before each run, the same at every scale: as many users as the schedule's
 * largest burst (arrivals at one instant), 4 to 40, each sending its next when its last is
 * answered, 2 round trips each and 40 requests at least. A bursty run's warm-up is a burst,
 * so the paths a burst takes (a full bulkhead, the model past its knee, errors, retries,
 * backoff timers) are compiled before the clock starts: with 4 users the first burst of
 * seed.yaml at scale 6 met them cold and the host added 6.9–22 ms per call at p99 (model
 * time), against 2.5–4.2 ms after 40. A steady run's is 4 users, never more at once than
 * its own load puts in flight. The settle phase then waits for the downstream to be idle
 * and sets the policy again (a fresh breaker and windows).
 */
export function warmupLoad(schedule: number[]) {
  const users = Math.min(40, Math.max(4, peakArrivals(schedule)));
  return {
    offsetsMs: new Array<number>(users).fill(0),
    closed: { thinkTimeMs: 0, durationMs: 600_000, requests: Math.max(40, 2 * users) },
  };
}

/**
 * Pure: a scenario's run at scale k against the services' bases. Presets and partial
 * policies are expanded first, so no setting keeps an unscaled default.
 */
export function planRun(scenario: Scenario, run: Run, k: number, bases: Bases): RunPlan {
  if (run.target === 'http')
    throw new Error(`${run.name} goes straight to a service: no stack to plan`);
  const scale = <T>(schema: TSchema, value: T) => scaleBySchema(schema, value, k);
  // A spike schedule's spike is its trigger, unless the scenario names another.
  const trigger = scenario.trigger ?? spikeTrigger(scenario.load);
  const plan: RunPlan = {
    timeScale: k,
    model: scale(
      FailureModelParams,
      applyModelUpdate(applyModelUpdate(bases.model, scenario.downstream), run.downstream),
    ),
    faults: (run.faults ?? scenario.faults ?? []).map((fault) => scale(TimedFault, fault)),
    load: scale(ScheduleSpec, scenario.load),
    drainTimeoutMs: (scenario.drainTimeoutMs ?? 120_000) * k,
    bucketMs: runnerClocks.bucketMs * k,
    sampleEveryMs: runnerClocks.sampleEveryMs * k,
    recoveryRule: recoveryRuleOf(scenario, k),
    ...(trigger ? { trigger: scale(Trigger, trigger) } : {}),
  };
  if (run.target === 'rpc')
    plan.gateway = scale(Policy, applyPolicyUpdate(bases.gateway, run.policy ?? {}).policy);
  else {
    const subscriberRetries = Object.fromEntries(
      (run.subscribers ?? []).flatMap(({ name, maxRetries }) =>
        maxRetries === undefined ? [] : [[name, maxRetries]],
      ),
    );
    plan.producer = scale(ProducerPolicy, {
      ...bases.producer,
      ...run.producer,
      backoff: { ...bases.producer.backoff, ...run.producer?.backoff },
      subscriberRetries: {
        ...bases.producer.subscriberRetries,
        ...run.producer?.subscriberRetries,
        ...subscriberRetries,
      },
    });
    plan.worker = scale(WorkerPolicy, { ...bases.worker, ...run.worker });
    if (run.subscribers)
      plan.subscriberWorkers = run.subscribers.map((subscriber) =>
        scale(WorkerPolicy, { ...bases.worker, ...run.worker, ...subscriber.worker }),
      );
    if (run.killWorker) {
      const { at, subscriber } = run.killWorker;
      const index = run.subscribers?.findIndex(({ name }) => name === subscriber) ?? -1;
      plan.killWorker = { at: at * k, index: Math.max(0, index) };
    }
  }
  return plan;
}
