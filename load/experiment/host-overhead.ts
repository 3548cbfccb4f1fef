import { quantileBetween } from '../stack/prom-text.ts';
import type { RunObservations } from './observations.ts';
import { msFromSeconds, round } from '../generator/stats.ts';

/**
 * When the host shaped a run: its share of a downstream call (the caller's duration minus
 * the downstream's Server-Timing) passed 10 % of the base latency at p50, or 10 % of the
 * per-attempt timeout at p99. Past those the host, not the model, decides what is slow and
 * what times out. Measured here on seed.yaml: scale 1 gave p50 1.5 ms and p99 69 ms (model
 * time) and 552 retries; scale 4 gave 0.2 ms and 8.8 ms and 742 retries, the same as scale 8.
 */
export const hostShareLimits = { p50OfBaseLatency: 0.1, p99OfTimeout: 0.1 } as const;
const suggestableScales = [2, 4, 8, 16, 32, 64];

/** The caller's host overhead per call, and whether it shaped the run (wall time; toModelTime divides). */
export function hostOverhead(o: RunObservations) {
  const caller = o.target === 'rpc' ? 'gateway' : 'worker';
  const name = `${caller}_host_overhead_seconds`;
  const mine: Record<string, string> = o.subscriber ? { subscriber: o.subscriber } : {};
  const p50 = msFromSeconds(quantileBetween(o.before[caller], o.after[caller], name, 0.5, mine));
  const p99 = msFromSeconds(quantileBetween(o.before[caller], o.after[caller], name, 0.99, mine));
  const k = o.timeScale ?? 1;
  const p50Limit = hostShareLimits.p50OfBaseLatency * (o.baseLatencyMs ?? 0);
  const p99Limit = hostShareLimits.p99OfTimeout * (o.perAttemptTimeoutMs ?? 0);
  // The larger of the two wall-time figures against its wall-time limit: 1 is the limit. At
  // scale s the limits grow s ÷ k-fold, so the same wall figures give share × k ÷ s.
  const shares = [
    p50 === null || p50Limit <= 0 ? null : p50 / p50Limit,
    p99 === null || p99Limit <= 0 ? null : p99 / p99Limit,
  ].filter((share): share is number => share !== null);
  const share = shares.length === 0 ? null : Math.max(...shares);
  const fitsAt = (s: number) => share === null || (share * k) / s <= 1;
  const hostShaped = !fitsAt(k);
  const hostShare = share === null ? null : round(share, 3);
  // Assumes the overhead in wall time stays what it was here; a larger scale also eases the host.
  const suggestedTimeScale = hostShaped
    ? (suggestableScales.find((scale) => scale > k && fitsAt(scale)) ?? null)
    : null;
  return {
    hostOverheadP50Ms: p50,
    hostOverheadP99Ms: p99,
    hostShare,
    hostShaped,
    suggestedTimeScale,
  };
}
