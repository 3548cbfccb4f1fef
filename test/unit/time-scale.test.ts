import { describe, expect, it } from 'vitest';
import {
  defaultFailureModel,
  FailureModelParams,
} from '../../services/downstream/failure-model.ts';
import { FaultSpec } from '../../services/downstream/faults.ts';
import { Policy, presets } from '../../services/gateway/policy.ts';
import { defaultProducerPolicy, ProducerPolicy } from '../../services/shared/event-job.ts';
import { defaultsOf } from '../../services/shared/schemas.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import {
  type Bases,
  invariantRates,
  planRun,
  runnerClocks,
  scaleBySchema,
  unitOf,
} from '../../load/experiment/time-scale.ts';
import { parseScenario, Trigger } from '../../load/scenario/scenario.ts';
import { buildSchedule, ScheduleSpec } from '../../load/schedule/schedule.ts';

const bases: Bases = {
  model: defaultFailureModel,
  gateway: presets.safe,
  producer: defaultProducerPolicy,
  worker: defaultsOf(WorkerPolicy),
};

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
}

/** Every numeric field of a schema, by its name, with unions and arrays walked. */
function numericFields(schema: Node, name = ''): string[] {
  if (schema.type === 'number' || schema.type === 'integer') return [name];
  if (schema.anyOf) return schema.anyOf.flatMap((variant) => numericFields(variant, name));
  if (schema.items) return numericFields(schema.items, name);
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
    numericFields(child, key),
  );
}

/** What each schema's fields that are counts, ratios or switches are, so a new time field cannot hide among them. */
const knownInvariants = new Set([
  'failProbability',
  'overloadFailProbability',
  'maxFailProbability',
  'fraction',
  // An error fault's HTTP status: a code, not a quantity.
  'status',
  // HTTP statuses a load target counts as ok: codes too.
  'okStatuses',
  'maxRetries',
  'windowSize',
  'failureThreshold',
  'maxConcurrent',
  'maxQueue',
  'ratio',
  'k',
  'maxDepth',
  'keepCompleted',
  'concurrency',
  // Requests worked on and waiting at once: counts (Little's law: rate ÷ k × time × k).
  'poolConcurrency',
  'poolQueueSize',
  // The adaptive concurrency limit's bounds (counts) and its smoothing (a ratio).
  'initialLimit',
  'minLimit',
  'maxLimit',
  'smoothing',
  'total',
  'burst',
  ...Object.keys(invariantRates),
]);

describe('the time scale', () => {
  it('knows the unit of every numeric field the scenario can set: a duration, a rate or a known invariant', () => {
    const schemas = [
      FailureModelParams,
      FaultSpec,
      Trigger,
      ScheduleSpec,
      Policy,
      ProducerPolicy,
      WorkerPolicy,
    ];
    const fields = new Set(schemas.flatMap((schema) => numericFields(schema as Node)));
    expect(fields.size).toBeGreaterThan(30);
    for (const field of fields) {
      const unit = unitOf(field);
      if (unit === 'invariant')
        expect(
          knownInvariants.has(field),
          `${field}: a duration should end in Ms, a rate in Rps or PerSecond`,
        ).toBe(true);
      else expect(knownInvariants.has(field), field).toBe(false);
    }
  });

  it('multiplies every duration and divides every rate when it walks a schema, rounding integer fields', () => {
    const policy = scaleBySchema(Policy, presets.budgeted, 3);
    expect(policy).toEqual({
      ...presets.budgeted,
      perAttemptTimeoutMs: 360,
      backoff: { ...presets.budgeted.backoff, baseMs: 60, capMs: 1200 },
      breaker: { ...presets.budgeted.breaker, openMs: 1500, rollingWindowMs: 3000 },
      retryBudget: {
        ...presets.budgeted.retryBudget,
        windowMs: 30_000,
        minRetriesPerSecond: 5 / 3,
      },
      throttling: { ...presets.budgeted.throttling, windowMs: 30_000 },
    });
    expect(
      scaleBySchema(Policy, { ...presets.safe, perAttemptTimeoutMs: 125 }, 1.5).perAttemptTimeoutMs,
    ).toBe(188);
    expect(scaleBySchema(FailureModelParams, defaultFailureModel, 4)).toEqual({
      ...defaultFailureModel,
      baseLatencyMs: 32,
      jitterMs: 24,
      overloadLatencyMs: 200,
      // In flight ÷ (capacity × 0.1 s): the same load factor at every scale.
      capacityRps: 250,
    });
  });

  it('stretches every schedule k-fold: the same arrivals, k times further apart', () => {
    const specs: ScheduleSpec[] = [
      { kind: 'bursts', total: 20, burst: 7, gapMs: 80 },
      { kind: 'constant', ratePerSecond: 200, durationMs: 500 },
      { kind: 'ramp', fromRps: 10, toRps: 100, durationMs: 1000 },
      {
        kind: 'stages',
        startRps: 5,
        stages: [
          { durationMs: 400, targetRps: 80 },
          { durationMs: 300, targetRps: 0 },
        ],
      },
    ];
    for (const spec of specs) {
      const original = buildSchedule(spec);
      const scaled = buildSchedule(scaleBySchema(ScheduleSpec, spec, 4));
      expect(scaled.length, spec.kind).toBe(original.length);
      scaled.forEach((offset, i) => expect(offset).toBeCloseTo(original[i]! * 4, 6));
    }
  });

  it("takes a spike schedule's spike for the load trigger, scaled with it", () => {
    const scenario = parseScenario(`
name: spike
load:
  kind: spike
  ratePerSecond: 80
  durationMs: 9000
  spike: { at: 2000, durationMs: 1000, ratePerSecond: 300 }
runs: [{ name: a, target: rpc }]
`);
    const plan = planRun(scenario, scenario.runs[0]!, 2, bases);
    expect(plan.trigger).toEqual({ at: 4000, durationMs: 2000 });
    expect(plan.load).toEqual({
      kind: 'spike',
      ratePerSecond: 40,
      durationMs: 18_000,
      spike: { at: 4000, durationMs: 2000, ratePerSecond: 150 },
    });
    // A trigger the scenario names wins.
    expect(
      planRun({ ...scenario, trigger: { at: 100, durationMs: 50 } }, scenario.runs[0]!, 1, bases)
        .trigger,
    ).toEqual({ at: 100, durationMs: 50 });
  });

  it('plans an rpc run from the full policy a preset expands to, with the timeline and the runner’s clocks scaled', () => {
    const scenario = parseScenario(`
name: t
downstream: { baseLatencyMs: 10 }
faults: [{ at: 500, kind: latency, latencyMs: 40, durationMs: 200 }]
trigger: { at: 100, durationMs: 300 }
load: { kind: constant, ratePerSecond: 100, durationMs: 1000 }
drainTimeoutMs: 5000
runs: [{ name: a, target: rpc, policy: { preset: unsafe, maxRetries: 1 } }]
`);
    const plan = planRun(scenario, scenario.runs[0]!, 2, bases);
    expect(plan.model).toMatchObject({ baseLatencyMs: 20, jitterMs: 12, capacityRps: 250 });
    expect(plan.gateway).toEqual({
      ...scaleBySchema(Policy, presets.unsafe, 2),
      maxRetries: 1,
    });
    expect(plan.gateway!.perAttemptTimeoutMs).toBe(240);
    expect(plan.faults).toEqual([{ at: 1000, kind: 'latency', latencyMs: 80, durationMs: 400 }]);
    expect(plan.trigger).toEqual({ at: 200, durationMs: 600 });
    expect(plan.load).toEqual({ kind: 'constant', ratePerSecond: 50, durationMs: 2000 });
    expect(plan.drainTimeoutMs).toBe(10_000);
    expect(plan).toMatchObject({
      bucketMs: runnerClocks.bucketMs * 2,
      sampleEveryMs: runnerClocks.sampleEveryMs * 2,
      recoveryHoldMs: runnerClocks.recoveryHoldMs * 2,
    });
    expect(plan.warmupOffsetsMs[1]).toBe(runnerClocks.warmupGapMs * 2);
    expect(plan.producer).toBeUndefined();
  });

  it('plans an events run from the producer’s and the worker’s whole policies, scaled', () => {
    const scenario = parseScenario(`
name: t
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs: [{ name: e, target: events, producer: { backoff: { kind: exponential, baseMs: 20, capMs: 100, jitter: full } }, worker: { concurrency: 4 } }]
`);
    const plan = planRun(scenario, scenario.runs[0]!, 4, bases);
    expect(plan.producer).toEqual({
      ...defaultProducerPolicy,
      backoff: { ...defaultProducerPolicy.backoff, baseMs: 80, capMs: 400 },
    });
    expect(plan.worker).toEqual({ concurrency: 4, perAttemptTimeoutMs: 800, lockPerKey: false });
    expect(plan.gateway).toBeUndefined();
  });

  it('plans a topic run: each subscriber’s retries and worker policy, and the run’s own downstream over the scenario’s', () => {
    const scenario = parseScenario(`
name: t
downstream: { baseLatencyMs: 10, failProbability: 0.01 }
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs:
  - name: e
    target: events
    downstream: { idempotentReceiver: true, baseLatencyMs: 7 }
    worker: { concurrency: 4 }
    subscribers:
      - { name: billing, maxRetries: 1, worker: { perAttemptTimeoutMs: 50 } }
      - { name: audit }
`);
    const plan = planRun(scenario, scenario.runs[0]!, 2, bases);
    expect(plan.model).toMatchObject({
      baseLatencyMs: 14,
      failProbability: 0.01,
      idempotentReceiver: true,
    });
    expect(plan.producer?.subscriberRetries).toEqual({ billing: 1 });
    expect(plan.subscriberWorkers).toEqual([
      { concurrency: 4, perAttemptTimeoutMs: 100, lockPerKey: false },
      { concurrency: 4, perAttemptTimeoutMs: 400, lockPerKey: false },
    ]);
  });

  it('plans a worker kill at its scaled time, on the named subscriber’s worker (the first without one)', () => {
    const scenario = parseScenario(`
name: t
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs:
  - name: e
    target: events
    killWorker: { at: 300, subscriber: audit }
    subscribers: [{ name: billing }, { name: audit }]
  - { name: plain, target: events, killWorker: { at: 100 } }
`);
    expect(planRun(scenario, scenario.runs[0]!, 4, bases).killWorker).toEqual({
      at: 1200,
      index: 1,
    });
    expect(planRun(scenario, scenario.runs[1]!, 2, bases).killWorker).toEqual({
      at: 200,
      index: 0,
    });
  });

  it('plays a run’s own fault timeline instead of the scenario’s', () => {
    const scenario = parseScenario(`
name: t
faults: [{ at: 100, kind: error, durationMs: 50 }]
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs:
  - { name: own, target: rpc, faults: [{ at: 10, kind: latency, latencyMs: 5, durationMs: 20 }] }
  - { name: none, target: rpc, faults: [] }
  - { name: shared, target: rpc }
`);
    const [own, none, shared] = scenario.runs.map((run) => planRun(scenario, run, 2, bases));
    expect(own!.faults).toEqual([{ at: 20, kind: 'latency', latencyMs: 10, durationMs: 40 }]);
    expect(none!.faults).toEqual([]);
    expect(shared!.faults).toEqual([{ at: 200, kind: 'error', durationMs: 100 }]);
  });

  it('starts a downstream from its preset, then the scenario’s and the run’s own fields', () => {
    const scenario = parseScenario(`
name: t
downstream: { preset: deadline-aware, baseLatencyMs: 30 }
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs:
  - { name: kept, target: rpc }
  - { name: bounded, target: rpc, downstream: { preset: bounded, poolQueueOrder: fifo } }
  - { name: seed, target: rpc, downstream: { preset: seed } }
`);
    const [kept, bounded, seed] = scenario.runs.map(
      (run) => planRun(scenario, run, 2, bases).model,
    );
    expect(kept).toMatchObject({
      honourDeadlines: true,
      cancelOnDisconnect: true,
      baseLatencyMs: 60,
    });
    expect(bounded).toMatchObject({
      honourDeadlines: true,
      poolConcurrency: 25,
      poolQueueSize: 50,
      poolQueueOrder: 'fifo',
    });
    expect(seed).toMatchObject({
      honourDeadlines: false,
      cancelOnDisconnect: false,
      poolConcurrency: 0,
    });
    expect(seed).not.toHaveProperty('preset');
  });

  it('changes nothing at scale 1', () => {
    const scenario = parseScenario(`
name: t
load: { kind: bursts, total: 10, burst: 5, gapMs: 50 }
runs: [{ name: a, target: rpc }]
`);
    const plan = planRun(scenario, scenario.runs[0]!, 1, bases);
    expect(plan.gateway).toEqual(presets.safe);
    expect(plan.model).toEqual(defaultFailureModel);
    expect(plan.load).toEqual(scenario.load);
  });
});

describe('unitOf', () => {
  it('reads the unit from the name', () => {
    expect(unitOf('perAttemptTimeoutMs')).toBe('duration');
    expect(unitOf('at')).toBe('duration');
    expect(unitOf('ratePerSecond')).toBe('rate');
    expect(unitOf('targetRps')).toBe('rate');
    expect(unitOf('capacityRps')).toBe('invariant');
    expect(unitOf('maxRetries')).toBe('invariant');
  });
});
