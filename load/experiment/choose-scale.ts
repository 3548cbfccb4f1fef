import { autoTimeScales } from '../scenario/shape.ts';
import type { Run } from '../scenario/runs.ts';
import type { RunSummary, TimeScaleChoice } from './result.ts';

/** The first probe's scale: past the point where a small machine is saturated by the seed. */
export const autoStartScale = 4;

/**
 * `auto` keeps a scale at which the host took at most half of the share that makes a run
 * host-shaped (hostShare ≤ 0.5): that share moved 2× between runs at one scale (seed.yaml at 4
 * on 2026-12-06: 5.9 and 11.4 ms at p99 against the 12 ms limit), so a run that only just
 * passes once would be host-shaped in the next repeat.
 */
export const autoHeadroom = 0.5;

/**
 * The scale `auto` runs a scenario at, calibrated on its first run. A probe measures the
 * host's share of a call in wall time, which stays about what it is as the scale changes while
 * the host keeps up (seed.yaml: 36–61 ms at p99 at scales 2 to 8); so each probe predicts
 * the smallest scale at which that share fits the headroom, and the next probe is the smallest
 * candidate between the largest scale found too shaped and the smallest found good that the
 * prediction allows. Going down is checked by a probe, since a busier host adds more. Every
 * probe is a whole run: the one at the chosen scale is the first run's first repeat, and
 * `probes` keeps them by scale.
 */
export async function chooseTimeScale(
  run: Run,
  probe: (run: Run, timeScale: number) => Promise<RunSummary[]>,
  candidates: readonly number[] = autoTimeScales,
  start = autoStartScale,
): Promise<{ choice: TimeScaleChoice; probes: Map<number, RunSummary[]> }> {
  const probes = new Map<number, RunSummary[]>();
  const tried: TimeScaleChoice['tried'] = [];
  let tooShaped = 0;
  let good = Number.POSITIVE_INFINITY;
  let why = '';
  for (let k: number | undefined = start; k !== undefined;) {
    const summaries = await probe(run, k);
    probes.set(k, summaries);
    // A topic run has a row per subscriber: the most shaped decides.
    const share = worstShare(summaries);
    const first = summaries[0]!;
    tried.push({
      timeScale: k,
      hostOverheadP99Ms: first.hostOverheadP99Ms,
      hostShare: share,
      hostShaped: summaries.some((summary) => summary.hostShaped),
    });
    if (share === null) {
      // Nothing to judge (no call reached the downstream): the host shaped nothing measurable.
      good = k;
      why = `${run.name} at scale ${k} made no downstream call with a service time to judge the host by`;
      break;
    }
    if (share <= autoHeadroom) good = Math.min(good, k);
    else tooShaped = Math.max(tooShaped, k);
    // The wall-time share at k, held at scale s: share × k ÷ s ≤ headroom.
    const fitsFrom: number = (share * k) / autoHeadroom;
    const between = candidates.filter((s) => s > tooShaped && s < good && !probes.has(s));
    k =
      between.find((s) => s >= fitsFrom) ??
      (good === Number.POSITIVE_INFINITY ? between.at(-1) : undefined);
  }
  const largest = candidates.at(-1)!;
  const timeScale = Number.isFinite(good) ? good : largest;
  if (!why)
    why = Number.isFinite(good)
      ? `${run.name}: the smallest scale tried at which the host took at most ${autoHeadroom * 100} % of its limit (${tried.map(describe).join('; ')})`
      : `the host took more than ${autoHeadroom * 100} % of its limit in ${run.name} at every scale tried (${tried.map(describe).join('; ')}); running at the largest, ${largest}`;
  // Every scale it can end at was probed: a good one, or the largest once all above the
  // shaped ones were tried.
  return { choice: { timeScale, tried, reason: why }, probes };
}

function worstShare(summaries: RunSummary[]): number | null {
  const shares = summaries.flatMap((summary) =>
    summary.hostShare === null ? [] : [summary.hostShare],
  );
  return shares.length === 0 ? null : Math.max(...shares);
}

const describe = ({ timeScale, hostShare }: TimeScaleChoice['tried'][number]) =>
  `${timeScale}: ${hostShare === null ? 'no figure' : `${Math.round(hostShare * 100)} %`}`;
