import { describe, expect, it } from 'vitest';
import {
  defaultFailureModel,
  FailureModelParams,
} from '../../services/downstream/failure-model.ts';
import { FaultSpec } from '../../services/downstream/faults.ts';
import { Policy, presets } from '../../services/gateway/policy.ts';
import { ProducerPolicy } from '../../services/shared/event-job.ts';
import { WorkerPolicy } from '../../services/worker/config.ts';
import { planRun, scaleBySchema, unitOf } from '../../load/experiment/time-scale.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { Trigger } from '../../load/scenario/shape.ts';
import { buildSchedule, ScheduleSpec } from '../../load/schedule/schedule.ts';
import { bases, type Node, numericFields, knownInvariants } from './time-scale-fixtures.ts';

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
