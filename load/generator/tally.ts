/** How a load's requests ended, counted: sent = ok + failed + dropped. */
export interface Tally {
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
}

export const emptyTally = (): Tally => ({ sent: 0, ok: 0, failed: 0, dropped: 0 });

/** `into` plus `more`, field by field (in place; answers `into`). */
export function addTally(into: Tally, more: Tally): Tally {
  into.sent += more.sent;
  into.ok += more.ok;
  into.failed += more.failed;
  into.dropped += more.dropped;
  return into;
}
