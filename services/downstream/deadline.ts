/**
 * What a downstream that honours deadlines does with one request, pure: the caller says
 * how long it will still wait (`x-cascade-deadline-ms`, as gRPC's `grpc-timeout`); work
 * that cannot start in time is refused, and work that outlasts it is dropped at the
 * deadline, since nobody waits for its answer.
 */
export type DeadlineDecision = { kind: 'refuse' } | { kind: 'work'; ms: number; dropped: boolean };

/** The header's budget: whole non-negative ms; anything else counts as no deadline. */
export function parseDeadlineMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * `budgetMs` left when the work would start (undefined: no deadline) and `workMs` the
 * work takes: refuse at once when nothing is left, else work until done or the deadline.
 */
export function decideDeadline(budgetMs: number | undefined, workMs: number): DeadlineDecision {
  if (budgetMs === undefined) return { kind: 'work', ms: workMs, dropped: false };
  if (budgetMs <= 0) return { kind: 'refuse' };
  return workMs > budgetMs
    ? { kind: 'work', ms: budgetMs, dropped: true }
    : { kind: 'work', ms: workMs, dropped: false };
}
