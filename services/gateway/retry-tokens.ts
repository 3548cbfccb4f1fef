import { type Static, Type } from 'typebox';

/**
 * Token-bucket retry throttling, as real clients run it. One schema covers both published
 * designs: gRPC's (proposal A6: every failed attempt takes `failureCost` 1, every success
 * gives `successTokens` = tokenRatio back, retries stop while the tokens are at or below
 * `retryThreshold` × maxTokens, i.e. half) and the AWS SDKs' standard mode (a retry takes
 * `retryCost`, or `timeoutRetryCost` after a timeout, `overloadRetryCost` after the server's
 * "slow down"; a success without retries gives `successTokens` back, a success after retries
 * refunds its last retry's cost). The bucket starts full.
 */
export const RetryTokensPolicy = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /** The bucket's size; it starts full. AWS: 500; gRPC's maxTokens (1–1000). */
    maxTokens: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 500 }),
    /** Tokens a retry takes; with fewer left, no retry. AWS standard: 5; 2026: 14; gRPC: 0. */
    retryCost: Type.Number({ minimum: 0, maximum: 1_000_000, default: 5 }),
    /** Tokens a retry after a timeout takes. AWS standard: 10; 2026: as any retry. */
    timeoutRetryCost: Type.Number({ minimum: 0, maximum: 1_000_000, default: 10 }),
    /** Tokens a retry after the server's 503 overloaded (throttling) takes. AWS 2026: 5. */
    overloadRetryCost: Type.Number({ minimum: 0, maximum: 1_000_000, default: 5 }),
    /** Tokens every failed attempt takes, the first one included. gRPC: 1; AWS: 0. */
    failureCost: Type.Number({ minimum: 0, maximum: 1_000_000, default: 0 }),
    /** Tokens a success gives back. AWS: 1 (only without retries); gRPC: tokenRatio. */
    successTokens: Type.Number({ minimum: 0, maximum: 1_000_000, default: 1 }),
    /** AWS: a success after retries gets its last retry's cost back instead of `successTokens`. */
    refundOnSuccess: Type.Boolean({ default: true }),
    /** Retries stop while tokens ≤ this × maxTokens. gRPC: 0.5; AWS: 0 (only the cost counts). */
    retryThreshold: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  },
  { additionalProperties: false },
);
export type RetryTokensPolicy = Static<typeof RetryTokensPolicy>;

/** What the failed attempt was, for what its retry costs. */
export type RetryCause = 'timeout' | 'overload' | 'other';

/** One bucket per client instance; pure (no clock: tokens move with outcomes, not with time). */
export class RetryTokens {
  readonly #policy: RetryTokensPolicy;
  #tokens: number;

  constructor(policy: RetryTokensPolicy) {
    this.#policy = policy;
    this.#tokens = policy.maxTokens;
  }

  get tokens(): number {
    return this.#tokens;
  }

  /** An attempt failed in a way a retry could fix. */
  failed(): void {
    this.#tokens = Math.max(0, this.#tokens - this.#policy.failureCost);
  }

  /** Takes a retry's cost if the bucket allows a retry now; answers the cost taken, or undefined. */
  tryRetry(cause: RetryCause): number | undefined {
    const p = this.#policy;
    const cost =
      cause === 'timeout'
        ? p.timeoutRetryCost
        : cause === 'overload'
          ? p.overloadRetryCost
          : p.retryCost;
    if (this.#tokens < cost) return undefined;
    if (p.retryThreshold > 0 && this.#tokens <= p.retryThreshold * p.maxTokens) return undefined;
    this.#tokens -= cost;
    return cost;
  }

  /** A request succeeded; `lastRetryCost` is what its last retry took (undefined: it had none). */
  succeeded(lastRetryCost: number | undefined): void {
    const p = this.#policy;
    const back = p.refundOnSuccess && lastRetryCost !== undefined ? lastRetryCost : p.successTokens;
    this.#tokens = Math.min(p.maxTokens, this.#tokens + back);
  }
}
