import { describe, expect, it } from 'vitest';
import type { EventsRunSummary, RpcRunSummary } from '../../load/experiment/result.ts';
import { runExperiment } from '../../load/experiment/run-experiment.ts';
import { RunStacks, type StackMode } from '../../load/experiment/run-stacks.ts';
import { Timings } from '../../load/experiment/timings.ts';
import { autoTimeScales } from '../../load/scenario/shape.ts';
import { autoHeadroom, autoStartScale } from '../../load/experiment/choose-scale.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';

// Each run leaves something behind on the stack: the first a downstream that fails every
// call and a latency fault, the events run a queue and the ids of its jobs. A reset that
// missed any of them would show in the run after it.
const scenario = parseScenario(`
name: shared
seed: 5
repeat: 2
downstream: { failProbability: 0, overloadFailProbability: 0 }
load: { kind: constant, ratePerSecond: 100, durationMs: 800 }
runs:
  - name: broken
    target: rpc
    policy: { preset: unsafe, maxRetries: 0 }
    downstream: { failProbability: 1 }
    faults: [{ at: 0, kind: latency, latencyMs: 30, durationMs: 5000 }]
  - name: clean
    target: rpc
    policy: { preset: unsafe, maxRetries: 0 }
  - name: events
    target: events
    worker: { concurrency: 8 }
`);

describe('one local stack shared by every run, reset between them', () => {
  it(
    'leaves each run independent: no fault, model, counter or job id carries over',
    { timeout: 180_000 },
    async () => {
      const modes: StackMode[] = [];
      const timings = new Timings();
      const result = await runExperiment(scenario, {
        redisUrl: undefined,
        timings,
        onStacks: (mode) => modes.push(mode),
      });
      expect(modes).toEqual(['shared']);
      // One stack for six runs, reset before and after each.
      expect(timings.ms('stack start')).toBeGreaterThan(0);
      expect(timings.ms('reset')).toBeGreaterThan(0);
      const [broken, clean, events] = result.runs as [
        RpcRunSummary,
        RpcRunSummary,
        EventsRunSummary,
      ];
      for (const repeat of broken.repeats!) {
        expect(repeat.sent).toBe(80);
        expect(repeat.ok).toBe(0);
      }
      for (const repeat of clean.repeats! as RpcRunSummary[]) {
        // Counted from this run's own scrapes: the broken run's calls are not in them.
        expect(repeat.ok).toBe(80);
        expect(repeat.attempts).toBe(80);
        // Its ids are its own: the downstream's effect ledger has not seen them.
        expect(repeat.duplicateEffects).toBe(0);
        // The latency fault is gone: answers take the model's ~8 ms, not 30 more.
        expect(repeat.p50Ms!).toBeLessThan(30);
      }
      for (const repeat of events.repeats! as EventsRunSummary[]) {
        // The second repeat's ids are its own: the producer takes every job, none a duplicate.
        expect(repeat.accepted).toBe(80);
        expect(repeat.ok).toBe(80);
        expect(repeat.lost).toBe(0);
        expect(repeat.duplicateEffects).toBe(0);
      }
    },
  );

  it(
    'chooses the time scale with auto from probes of the first run on the shared stack, and keeps the chosen probe as its first repeat',
    { timeout: 180_000 },
    async () => {
      const probing = parseScenario(`
name: auto
seed: 6
timeScale: auto
load: { kind: constant, ratePerSecond: 40, durationMs: 500 }
runs:
  - { name: rpc, target: rpc, policy: { preset: safe } }
  - { name: other, target: rpc, policy: { preset: unsafe, maxRetries: 0 } }
`);
      const starts: Array<{ index: number; repeat: number; timeScale: number }> = [];
      const result = await runExperiment(probing, {
        redisUrl: undefined,
        onRunStart: (_run, index, repeat, timeScale) => starts.push({ index, repeat, timeScale }),
      });
      const choice = result.timeScaleChoice!;
      expect(choice.tried[0]!.timeScale).toBe(autoStartScale);
      // Every probe is of the first run, each at a scale of its own.
      const probes = starts.filter(({ repeat }) => repeat < 0);
      expect(probes.map(({ timeScale }) => timeScale)).toEqual(
        choice.tried.map(({ timeScale }) => timeScale),
      );
      expect(new Set(probes.map(({ timeScale }) => timeScale)).size).toBe(probes.length);
      expect(probes.every(({ index }) => index === 0)).toBe(true);
      // The probe at the chosen scale is the first run's repeat: only the second run runs again.
      expect(result.timeScale).toBe(choice.timeScale);
      expect(starts.filter(({ repeat }) => repeat >= 0)).toEqual([
        { index: 1, repeat: 0, timeScale: choice.timeScale },
      ]);
      // The chosen scale left the host half its limit, or none did and it is the largest.
      const chosen = choice.tried.find(({ timeScale }) => timeScale === choice.timeScale)!;
      expect(chosen.hostShare).not.toBeNull();
      if (chosen.hostShare! > autoHeadroom) {
        expect(choice.timeScale).toBe(autoTimeScales.at(-1));
        expect(choice.tried.every(({ hostShare }) => hostShare! > autoHeadroom)).toBe(true);
      }
      // No smaller scale that was tried was good.
      for (const { timeScale, hostShare } of choice.tried)
        if (timeScale < choice.timeScale) expect(hostShare!).toBeGreaterThan(autoHeadroom);
      const [rpc, other] = result.runs as [RpcRunSummary, RpcRunSummary];
      expect(rpc.hostShare).toBe(chosen.hostShare);
      expect(rpc.sent).toBe(20);
      expect(other.sent).toBe(20);
    },
  );

  it('gives runs that set up their stack a fresh one, and --fresh-stacks every run', async () => {
    const killing = parseScenario(`
name: k
load: { kind: constant, ratePerSecond: 10, durationMs: 100 }
runs: [{ name: e, target: events, killWorker: { at: 50 } }]
`);
    expect((await RunStacks.open(killing, {})).mode).toBe('fresh');
    expect((await RunStacks.open(scenario, { freshStacks: true })).mode).toBe('fresh');
    expect((await RunStacks.open(scenario, {})).mode).toBe('shared');
  });
});
