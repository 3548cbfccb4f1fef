import { remember } from './effects.ts';

/**
 * A contended resource: optimistic writes, one winner per version (the writes of Brooker's
 * "Exponential Backoff And Jitter", AWS 2015). A write reads its key's version when it
 * arrives, does its work, and commits only if no other write committed the key meanwhile.
 * Pure: no clock, no I/O.
 */
export class VersionStore {
  readonly #versions = new Map<string, number>();
  readonly #maxKeys: number;

  /** Bounded: past `maxKeys` keys the least recently written is forgotten (a write in flight on it then conflicts). */
  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys;
  }

  /** The key's version now (0 for a key never written). */
  read(key: string): number {
    return this.#versions.get(key) ?? 0;
  }

  /** Commits a write that read `seen`: true (and the version moves on) unless another won first. */
  commit(key: string, seen: number): boolean {
    if (this.read(key) !== seen) return false;
    // Deleted first, so that the key moves to the newest end and the oldest is forgotten first.
    this.#versions.delete(key);
    remember(this.#versions, key, seen + 1, this.#maxKeys);
    return true;
  }
}

/**
 * The key a request writes: its own `key`, else one of `conflictKeys` keys chosen from its
 * id (FNV-1a), so that every retry of a request writes the same key.
 */
export function conflictKeyOf(id: string, key: string | undefined, conflictKeys: number): string {
  if (key !== undefined) return key;
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `k${(hash >>> 0) % conflictKeys}`;
}
