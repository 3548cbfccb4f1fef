/**
 * Aborts one downstream call when its time is up. Hand-written instead of AbortController:
 * an AbortSignal is an EventTarget, and creating one, listening and unlistening per attempt
 * was the largest cost the policy added to a call (bench/results, gateway profile).
 */
export class Cancellation {
  #cancelled = false;
  #abort: (() => void) | undefined;
  /** When its time is up (`performance.now()` ms), for one made by `after`. */
  #deadlineAt: number | undefined;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** The call registers how to abort itself; at once if the time is already up. */
  bind(abort: () => void): void {
    if (this.#cancelled) abort();
    else this.#abort = abort;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.();
  }

  /** The time left before it fires, in ms (0 once past); undefined without a deadline. */
  remainingMs(now = performance.now()): number | undefined {
    return this.#deadlineAt === undefined ? undefined : Math.max(0, this.#deadlineAt - now);
  }

  /** A cancellation that fires after `ms`; `clear` stops its timer once the call is over. */
  static after(ms: number): { cancellation: Cancellation; clear: () => void } {
    const cancellation = new Cancellation();
    cancellation.#deadlineAt = performance.now() + ms;
    const timer = setTimeout(() => cancellation.cancel(), ms);
    return { cancellation, clear: () => clearTimeout(timer) };
  }
}
