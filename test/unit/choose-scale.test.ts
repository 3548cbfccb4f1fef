import { describe, expect, it } from 'vitest';
import { autoHeadroom, chooseTimeScale } from '../../load/experiment/choose-scale.ts';
import type { Run } from '../../load/scenario/runs.ts';
import { rpcSummary } from '../support/summaries.ts';

const run: Run = { name: 'rpc-safe', target: 'rpc' };

/**
 * A host that adds `wallMs` per call at p99 against a 12 ms limit at scale 1 (10 % of a 120 ms
 * timeout), more when a scale is below `saturatedBelow` (a host that cannot keep up).
 */
function host(wallMs: number, saturatedBelow = 0) {
  const probed: number[] = [];
  const probe = async (_run: Run, k: number) => {
    probed.push(k);
    const wall = k < saturatedBelow ? wallMs * 4 : wallMs;
    const hostShare = wall / (12 * k);
    return [rpcSummary('rpc-safe', { hostShare, hostShaped: hostShare > 1, retries: k })];
  };
  return { probe, probed };
}

describe('auto time scale', () => {
  it('keeps the first probe when the host takes half its limit there and a smaller scale would not fit', async () => {
    // 20 ms wall: 42 % at 4, 56 % at 3.
    const { probe, probed } = host(20);
    const { choice, probes } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4]);
    expect(choice.timeScale).toBe(4);
    expect(probes.get(4)![0]!.retries).toBe(4);
  });

  it('goes up to the scale the measured share predicts, then down while the prediction allows', async () => {
    // 40 ms wall: 83 % at 4 → fits from 6.7 → 8 (42 %) → fits from 6.7: nothing between 4 and 8.
    const { probe, probed } = host(40);
    const { choice } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4, 8]);
    expect(choice.timeScale).toBe(8);
    expect(choice.tried.map((tried) => tried.timeScale)).toEqual([4, 8]);
    expect(choice.reason).toContain('at most 50 %');
  });

  it('goes down from the first probe as far as the measured share allows', async () => {
    // 5 ms wall: 10 % at 4 → fits from 0.8 → 1 (42 %).
    const { probe, probed } = host(5);
    const { choice } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4, 1]);
    expect(choice.timeScale).toBe(1);
  });

  it('comes back up from a scale where the host could not keep up', async () => {
    // 4 ms wall: 8 % at 4 → 1, saturated (16 ms: 133 %) → fits from 2.7 → 3 (11 %) → 2 (17 %).
    const { probe, probed } = host(4, 2);
    const { choice, probes } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4, 1, 3, 2]);
    expect(choice.timeScale).toBe(2);
    expect(choice.tried.find((tried) => tried.timeScale === 1)!.hostShaped).toBe(true);
    // The probe at the chosen scale is kept: the first run's first repeat.
    expect(probes.get(2)![0]!.retries).toBe(2);
  });

  it('stays at a good scale when a saturated probe below it predicts nothing smaller fits', async () => {
    // 5 ms wall: 1 is saturated (20 ms: 167 %) → fits from 3.3: nothing between 3.3 and 4.
    const { probe, probed } = host(5, 2);
    const { choice } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4, 1]);
    expect(choice.timeScale).toBe(4);
  });

  it('runs at the largest scale when the host is past the headroom everywhere, and says so', async () => {
    const { probe, probed } = host(1000);
    const { choice } = await chooseTimeScale(run, probe);
    expect(probed).toEqual([4, 16]);
    expect(choice.timeScale).toBe(16);
    expect(choice.reason).toMatch(
      /more than 50 % of its limit in rpc-safe at every scale tried.*running at the largest, 16/,
    );
  });

  it('never probes a scale twice, and takes the most shaped row of a topic run', async () => {
    const probed: number[] = [];
    const { choice } = await chooseTimeScale(run, async (_run, k) => {
      probed.push(k);
      return [
        rpcSummary('a', { hostShare: 0.1 }),
        rpcSummary('b', { hostShare: k >= 8 ? 0.4 : 0.9 }),
      ];
    });
    expect(new Set(probed).size).toBe(probed.length);
    expect(choice.timeScale).toBe(8);
    expect(choice.tried.every((tried) => tried.hostShare! > 0.1)).toBe(true);
  });

  it('takes the first scale when there is no host figure to judge by', async () => {
    const { choice } = await chooseTimeScale(run, async () => [
      rpcSummary('rpc-safe', { hostShare: null }),
    ]);
    expect(choice.timeScale).toBe(4);
    expect(choice.reason).toContain('no downstream call');
  });

  it('holds a share of half the limit as its headroom', () => {
    expect(autoHeadroom).toBe(0.5);
  });
});
