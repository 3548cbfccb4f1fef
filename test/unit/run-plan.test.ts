import { describe, expect, it } from 'vitest';
import { Policy, presets } from '../../services/gateway/policy.ts';
import { defaultProducerPolicy } from '../../services/shared/event-job.ts';
import { planRun, runnerClocks, scaleBySchema } from '../../load/experiment/time-scale.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { bases } from './time-scale-fixtures.ts';

describe('the time scale', () => {
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
      // The recovery verdict's windows stretch with the scale; its share of ok answers does not.
      recoveryRule: { goodputRatio: 0.9, windowMs: 1000, holdMs: 2000, settleMs: 4000 },
    });
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
});
