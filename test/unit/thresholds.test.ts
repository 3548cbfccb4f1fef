import { describe, expect, it } from 'vitest';
import { evaluateThresholds } from '../../load/experiment/thresholds.ts';
import { parseThreshold, thresholdMetrics } from '../../load/scenario/thresholds.ts';
import { scenarioProblems } from '../../load/scenario/problems.ts';
import { eventsSummary, rpcSummary } from '../support/summaries.ts';

const rpc = rpcSummary('rpc-safe');
const events = eventsSummary('events');

describe('parseThreshold', () => {
  it('reads run, metric, operator and limit', () => {
    expect(parseThreshold('rpc-safe.p99_ms <= 250.5')).toEqual({
      run: 'rpc-safe',
      metric: 'p99_ms',
      operator: '<=',
      limit: 250.5,
    });
    expect(parseThreshold(' events.lost==0 ')).toMatchObject({ operator: '==', limit: 0 });
    expect(parseThreshold('a.amplification > -1')).toMatchObject({ operator: '>', limit: -1 });
  });

  it('refuses unknown metrics, operators and limits that are not numbers', () => {
    expect(parseThreshold('rpc.latency < 3')).toBeUndefined();
    expect(parseThreshold('rpc.ok != 3')).toBeUndefined();
    expect(parseThreshold('rpc.ok < 1.2.3')).toBeUndefined();
    expect(parseThreshold('rpc ok < 3')).toBeUndefined();
  });
});

describe('evaluateThresholds', () => {
  it('passes and fails on the run’s figure with each operator', () => {
    const results = evaluateThresholds(
      [
        'rpc-safe.ok >= 90',
        'rpc-safe.ok > 90',
        'rpc-safe.p99_ms < 100',
        'rpc-safe.p99_ms <= 79',
        'rpc-safe.amplification == 1.12',
        'events.lost == 0',
        'events.dlq < 5',
      ],
      [rpc, events],
    );
    expect(results.map((r) => [r.value, r.passed])).toEqual([
      [90, true],
      [90, false],
      [80, true],
      [80, false],
      [1.12, true],
      [0, true],
      [8, false],
    ]);
  });

  it('fails a threshold on a run that does not exist, or on a figure the run’s target has not', () => {
    expect(
      evaluateThresholds(
        ['nobody.ok > 0', 'rpc-safe.dlq == 0', 'rpc-safe.lost == 0', 'events.cb_open == 0'],
        [rpc, events],
      ),
    ).toEqual([
      { expression: 'nobody.ok > 0', value: null, passed: false },
      { expression: 'rpc-safe.dlq == 0', value: null, passed: false },
      { expression: 'rpc-safe.lost == 0', value: null, passed: false },
      { expression: 'events.cb_open == 0', value: null, passed: false },
    ]);
  });

  it('fails a missing latency (no answers) instead of passing it', () => {
    expect(evaluateThresholds(['rpc-safe.p99_ms < 100'], [{ ...rpc, p99Ms: null }])).toEqual([
      { expression: 'rpc-safe.p99_ms < 100', value: null, passed: false },
    ]);
  });

  it('knows every metric the scenario schema accepts, and the schema accepts every one it knows', () => {
    const scenario = (threshold: string) => ({
      name: 'x',
      load: { kind: 'constant', ratePerSecond: 1, durationMs: 1000 },
      runs: [{ name: 'r', target: 'rpc' }],
      thresholds: [threshold],
    });
    for (const metric of thresholdMetrics) {
      expect(scenarioProblems(scenario(`r.${metric} < 1`))).toEqual([]);
      const run = ['dlq', 'lost'].includes(metric) ? 'events' : 'rpc-safe';
      const recovered = { ...rpc, recovery: { ...rpc.recovery, verdict: 'stable' as const } };
      const [result] = evaluateThresholds([`${run}.${metric} < 1000000`], [recovered, events]);
      expect(typeof result!.value, metric).toBe('number');
    }
    expect(scenarioProblems(scenario('r.speed < 1'))).toHaveLength(1);
  });
});

describe('thresholds in a scenario', () => {
  const scenario = (threshold: string) => ({
    name: 'x',
    load: { kind: 'constant', ratePerSecond: 1, durationMs: 1000 },
    runs: [
      { name: 'a', target: 'rpc' },
      { name: 'b', target: 'rpc' },
    ],
    thresholds: [threshold],
  });

  it('may compare two runs on one figure, and names what is wrong otherwise', () => {
    expect(scenarioProblems(scenario('a.goodput_rps > b.goodput_rps'))).toEqual([]);
    expect(scenarioProblems(scenario('a.goodput_rps > c.goodput_rps'))).toEqual([
      'thresholds[0]: no run is named "c"',
    ]);
    expect(scenarioProblems(scenario('a.goodput_rps > b.retries'))).toEqual([
      'thresholds[0]: two runs are compared on one figure (goodput_rps against retries)',
    ]);
  });
});
