/** Milliseconds on a monotonic clock; injected so time-dependent logic is testable. */
export type Clock = () => number;

export const monotonicClock: Clock = () => performance.now();
