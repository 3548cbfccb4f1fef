/**
 * A concurrency limit learnt from latency, after TCP Vegas as Netflix's
 * concurrency-limits applies it: the lowest round trip seen is the no-queue baseline; a
 * sample's round trip above it means requests are queueing somewhere, about
 * `limit × (1 − minRtt / rtt)` of them. Few queued: the limit rises; many: it falls; a
 * dropped request (timeout, overload) always lowers it. Hand-written and pure (no clock,
 * no I/O): no maintained JavaScript library implements it.
 */
export interface AdaptiveLimitSettings {
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** 0–1: how far each update moves the limit towards its new value. */
  smoothing: number;
}

export interface LimitSample {
  /** The request's round trip, ms. */
  rttMs: number;
  /** Requests in flight when it was sent (itself included). */
  inflight: number;
  /** It timed out or was refused for overload. */
  dropped: boolean;
}

export class AdaptiveLimit {
  readonly #settings: AdaptiveLimitSettings;
  #limit: number;
  #minRttMs = Number.POSITIVE_INFINITY;

  constructor(settings: AdaptiveLimitSettings) {
    this.#settings = settings;
    this.#limit = clamp(settings.initialLimit, settings.minLimit, settings.maxLimit);
  }

  /** The whole number of requests allowed in flight now. */
  get limit(): number {
    return Math.max(this.#settings.minLimit, Math.floor(this.#limit));
  }

  /** The no-queue baseline so far, ms (Infinity before the first sample). */
  get minRttMs(): number {
    return this.#minRttMs;
  }

  update({ rttMs, inflight, dropped }: LimitSample): number {
    const { minLimit, maxLimit, smoothing } = this.#settings;
    const current = this.#limit;
    const step = Math.max(1, Math.log10(current));
    let next = current;
    if (dropped) next = current - step;
    else {
      if (rttMs > 0 && rttMs < this.#minRttMs) this.#minRttMs = rttMs;
      // Far below the limit the latency says nothing about it: leave it.
      if (inflight * 2 < current) return this.limit;
      const queued = current * (1 - this.#minRttMs / Math.max(rttMs, this.#minRttMs));
      if (queued <= step) next = current + 3 * step;
      else if (queued < 3 * step) next = current + step;
      else if (queued > 6 * step) next = current - step;
    }
    this.#limit = clamp(current + smoothing * (next - current), minLimit, maxLimit);
    return this.limit;
  }
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
