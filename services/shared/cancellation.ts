/**
 * Aborts one downstream call when its time is up. Hand-written instead of AbortController:
 * an AbortSignal is an EventTarget, and creating one, listening and unlistening per attempt
 * was the largest cost the policy added to a call (bench/results, gateway profile).
 */
export class Cancellation {
  #cancelled = false;
  #abort: (() => void) | undefined;

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

  /** A cancellation that fires after `ms`; `clear` stops its timer once the call is over. */
  static after(ms: number): { cancellation: Cancellation; clear: () => void } {
    const cancellation = new Cancellation();
    const timer = setTimeout(() => cancellation.cancel(), ms);
    return { cancellation, clear: () => clearTimeout(timer) };
  }
}
