import { type Static, Type } from 'typebox';
import type { Rng } from './rng.ts';

export const BackoffPolicy = Type.Object(
  {
    kind: Type.Enum(['none', 'fixed', 'exponential'], { default: 'exponential' }),
    baseMs: Type.Number({ minimum: 0, maximum: 60_000, default: 20 }),
    capMs: Type.Number({ minimum: 0, maximum: 600_000, default: 400 }),
    jitter: Type.Enum(['none', 'full', 'equal', 'decorrelated'], { default: 'full' }),
  },
  { additionalProperties: false },
);
export type BackoffPolicy = Static<typeof BackoffPolicy>;

/**
 * The delay before retry number `retry` (1 for the first retry) before jitter:
 * `none` → 0, `fixed` → min(cap, base), `exponential` → min(cap, base · 2^(retry−1)).
 */
export function backoffCeilingMs(retry: number, policy: BackoffPolicy): number {
  switch (policy.kind) {
    case 'none':
      return 0;
    case 'fixed':
      return Math.min(policy.capMs, policy.baseMs);
    case 'exponential':
      return Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
  }
}

/**
 * The delay before retry number `retry`, with jitter as Marc Brooker defines it
 * ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015):
 * - `none`: the ceiling;
 * - `full`: uniform in [0, ceiling);
 * - `equal`: ceiling/2 + uniform in [0, ceiling/2);
 * - `decorrelated`: min(cap, uniform in [base, 3 · previous)), previous starting at base;
 *   it has its own growth, so it ignores `kind` unless `kind` is `none`.
 */
export function backoffDelayMs(
  retry: number,
  policy: BackoffPolicy,
  rng: Rng,
  previousDelayMs?: number,
): number {
  if (policy.kind === 'none') return 0;
  const ceiling = backoffCeilingMs(retry, policy);
  switch (policy.jitter) {
    case 'none':
      return ceiling;
    case 'full':
      return rng() * ceiling;
    case 'equal':
      return ceiling / 2 + rng() * (ceiling / 2);
    case 'decorrelated': {
      const previous = previousDelayMs ?? policy.baseMs;
      const upper = Math.max(policy.baseMs, previous * 3);
      return Math.min(policy.capMs, policy.baseMs + rng() * (upper - policy.baseMs));
    }
  }
}
