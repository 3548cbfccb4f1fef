import { type Bucket } from '../../load/generator/series.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';
import { type RepeatVerdict, repeatVerdict } from '../../load/sweep/verdict.ts';

export const base = parseScenario(`
name: map
seed: 1
load:
  kind: spike
  ratePerSecond: 80
  durationMs: 9000
  spike: { at: 2000, durationMs: 1000, ratePerSecond: 300 }
runs:
  - { name: unsafe, target: rpc, policy: { preset: unsafe } }
  - { name: safe, target: rpc, policy: { preset: safe } }
thresholds:
  - unsafe.failed < 10
`);

export function series(durationMs: number, rate: number, okShare: (t: number) => number): Bucket[] {
  return Array.from({ length: durationMs / 100 }, (_, i) => {
    const ok = Math.round(rate * okShare(i * 100));
    return { startMs: i * 100, sent: rate, ok, failed: rate - ok, dropped: 0, p50Ms: 1, p99Ms: 1 };
  });
}
export const spikeWindow = [{ startMs: 2000, endMs: 3000, kind: 'load trigger' }];
export const judge = (okShare: (t: number) => number, faultWindows = spikeWindow) =>
  repeatVerdict(
    { target: 'rpc', series: series(9000, 10, okShare), faultWindows },
    defaultVerdictRule,
  );

export const repeatOf = (
  verdict: RepeatVerdict['verdict'],
  recoveryMs: number | null = null,
): RepeatVerdict => ({
  verdict,
  recoveryMs,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
});
