import { type Bucket } from '../../load/generator/series.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import type { Recovery } from '../../load/experiment/recovery.ts';

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

export const repeatOf = (
  verdict: Recovery['verdict'],
  recoveryMs: number | null = null,
): Recovery => ({
  verdict,
  recoveryMs,
  lowestRatio: null,
  ratioBefore: null,
  observedMs: null,
});
