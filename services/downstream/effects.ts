/** The answer a request with a key got the first time, for a receiver that replays it. */
export interface StoredOutcome {
  id: string;
  latencyMs: number;
}

export type KeyCheck =
  { kind: 'proceed' } | { kind: 'replay'; outcome: StoredOutcome } | { kind: 'in_progress' };

/**
 * The effects the downstream applied, per `Idempotency-Key` (IETF httpapi draft): how
 * many calls completed the work for each key, so a second one is a duplicate effect —
 * the hidden cost of a retry after a timeout (the work went on after the caller gave up)
 * or of a redelivery. With a receiver that is idempotent it also remembers each key's
 * first outcome and which keys are being worked on.
 *
 * Bounded: past `maxKeys` the oldest key is forgotten (a repeat of it after that counts
 * as new). Pure: no clock, no I/O.
 */
export class EffectLedger {
  readonly #maxKeys: number;
  readonly #applied = new Map<string, number>();
  readonly #outcomes = new Map<string, StoredOutcome>();
  readonly #inProgress = new Set<string>();

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys;
  }

  /** An idempotent receiver asks first: replay the stored outcome, refuse a key in progress, or go on. */
  check(key: string): KeyCheck {
    const outcome = this.#outcomes.get(key);
    if (outcome) return { kind: 'replay', outcome };
    if (this.#inProgress.has(key)) return { kind: 'in_progress' };
    this.#inProgress.add(key);
    return { kind: 'proceed' };
  }

  /** The work for `key` is over, done or not; `outcome` when its effect was applied and may be replayed. */
  release(key: string, outcome?: StoredOutcome): void {
    this.#inProgress.delete(key);
    if (outcome) remember(this.#outcomes, key, outcome, this.#maxKeys);
  }

  /** The work for `key` completed and applied its effect; true when it had been applied before. */
  applied(key: string): boolean {
    const count = (this.#applied.get(key) ?? 0) + 1;
    remember(this.#applied, key, count, this.#maxKeys);
    return count > 1;
  }
}

/** Sets `key` in a map kept to `max` entries, forgetting the oldest first (a Map keeps insertion order). */
export function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
