import type { ObjectiveName } from '../scenario/tune-spec.ts';

/** +1: more is better; −1: less is better. */
export const direction: Record<ObjectiveName, 1 | -1> = { goodput: 1, p99: -1, amplification: -1 };

export interface Point {
  id: string;
  objectives: Record<ObjectiveName, number>;
}

/** `a` is at least as good as `b` on every objective and better on one. */
export function dominates(a: Point, b: Point, names: readonly ObjectiveName[]): boolean {
  let better = false;
  for (const name of names) {
    const difference = (a.objectives[name] - b.objectives[name]) * direction[name];
    if (difference < 0) return false;
    if (difference > 0) better = true;
  }
  return better;
}

/** Non-dominated sorting: the front, then the front of the rest, and so on. */
export function fronts<P extends Point>(
  points: readonly P[],
  names: readonly ObjectiveName[],
): P[][] {
  const levels: P[][] = [];
  let rest = [...points];
  while (rest.length > 0) {
    const front = rest.filter((p) => !rest.some((q) => q !== p && dominates(q, p, names)));
    levels.push(front);
    rest = rest.filter((p) => !front.includes(p));
  }
  return levels;
}

/**
 * Each point's distance to the ideal, every objective scaled to 0 (the best among `points`)
 * … 1 (the worst), so that no unit outweighs another: the knee rule's measure.
 */
export function distancesToIdeal(
  points: readonly Point[],
  names: readonly ObjectiveName[],
): Map<string, number> {
  const scaled = names.map((name) => {
    const values = points.map((p) => p.objectives[name] * direction[name]);
    const best = Math.max(...values);
    const span = best - Math.min(...values);
    return (p: Point) => (span === 0 ? 0 : (best - p.objectives[name] * direction[name]) / span);
  });
  return new Map(
    points.map((p) => [p.id, Math.hypot(...scaled.map((scale) => scale(p)))] as const),
  );
}

/** Points best first: by front, then within a front by distance to the ideal of all of them. */
export function rank<P extends Point>(points: readonly P[], names: readonly ObjectiveName[]): P[] {
  const distance = distancesToIdeal(points, names);
  return fronts(points, names).flatMap((front) =>
    [...front].sort((a, b) => distance.get(a.id)! - distance.get(b.id)!),
  );
}

/**
 * The recommendation on a front: its knee, the point nearest the ideal once each objective is
 * scaled over the front (0 best, 1 worst), and the runner-up, the next nearest.
 */
export function knee<P extends Point>(
  front: readonly P[],
  names: readonly ObjectiveName[],
): { best: P; runnerUp: P | undefined; distance: Map<string, number> } {
  const distance = distancesToIdeal(front, names);
  const sorted = [...front].sort((a, b) => distance.get(a.id)! - distance.get(b.id)!);
  return { best: sorted[0]!, runnerUp: sorted[1], distance };
}
