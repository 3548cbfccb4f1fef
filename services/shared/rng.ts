/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * A seedable RNG (mulberry32). Hand-written: eight lines, and the seedable PRNG
 * packages bring distributions and state APIs we don't need. Without a seed it
 * falls back to Math.random.
 */
export function createRng(seed?: number): Rng {
  if (seed === undefined) return Math.random;
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent stream for a named component, so adding one consumer doesn't shift another's numbers. */
export function forkRng(seed: number | undefined, name: string): Rng {
  if (seed === undefined) return Math.random;
  let hash = 2166136261;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return createRng((seed ^ hash) >>> 0);
}
