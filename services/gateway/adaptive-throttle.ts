import { type Static, Type } from 'typebox';
import type { Clock } from '../shared/clock.ts';
import type { Rng } from '../shared/rng.ts';
import { SlidingWindowCounter } from './sliding-window.ts';

export const ThrottlingPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /** Requests allowed per accept before local rejection starts; lower is more aggressive. */
    k: Type.Number({ minimum: 1, maximum: 100, default: 2 }),
    windowMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  },
  { additionalProperties: false },
);
export type ThrottlingPolicy = Static<typeof ThrottlingPolicy>;

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): reject
 * locally with probability max(0, (requests − K·accepts) / (requests + 1)) over
 * the window. Locally rejected requests count as requests, so rejection keeps
 * rising while the backend keeps refusing.
 */
export class AdaptiveThrottle {
  readonly #k: number;
  readonly #requests: SlidingWindowCounter;
  readonly #accepts: SlidingWindowCounter;

  constructor(policy: ThrottlingPolicy, clock: Clock) {
    this.#k = policy.k;
    this.#requests = new SlidingWindowCounter(policy.windowMs, 10, clock);
    this.#accepts = new SlidingWindowCounter(policy.windowMs, 10, clock);
  }

  rejectProbability(): number {
    const requests = this.#requests.total();
    return Math.max(0, (requests - this.#k * this.#accepts.total()) / (requests + 1));
  }

  /** Counts one request and says whether to reject it locally. */
  shouldReject(rng: Rng): boolean {
    const reject = rng() < this.rejectProbability();
    this.#requests.add();
    return reject;
  }

  recordAccept(): void {
    this.#accepts.add();
  }
}
