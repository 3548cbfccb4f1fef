import { stringify } from 'yaml';
import { applyPolicyUpdate, presets } from '../../services/gateway/policy.ts';
import { compareRuns } from '../experiment/repeats.ts';
import type { Comparison } from '../experiment/result.ts';
import type { ServiceRun } from '../scenario/runs.ts';
import type { ObjectiveName } from '../scenario/tune-spec.ts';
import { fronts, knee } from './pareto.ts';
import type { Evaluation, Rung } from './search.ts';
import { givenId, runOf } from './space.ts';

/** How the recommendation is chosen, said with it. */
export const kneeRule =
  'the knee: each objective scaled over the front from 0 (its best) to 1 (its worst), the point nearest the ideal (0 on every objective)';

export interface ApplyPolicy {
  /** The tuned run as a scenario's YAML. */
  yaml: string;
  /** Where to PUT which body to run it on a stack (service: its admin endpoint). */
  puts: Array<{ service: 'gateway' | 'producer' | 'worker'; body: unknown }>;
}

export interface TuneAnswer {
  /** The rung the answer is read from (the last one run), and its repeats. */
  rung: number;
  repeats: number;
  front: Evaluation[];
  recommended: Evaluation;
  runnerUp: Evaluation | null;
  /** Recommended against the runner-up, and against the policy as given, figure by figure. */
  comparisons: Comparison[];
  /** The scenario's own policy at that rung: on the front, dominated, or not promoted that far. */
  given: { onFront: boolean; evaluation: Evaluation | null };
  apply: ApplyPolicy;
}

/** What to put on a stack to run a candidate's policy: the whole gateway policy, or the worker's and producer's fields. */
export function applyOf(run: ServiceRun): ApplyPolicy {
  const yaml = stringify({ runs: [run] });
  if (run.target === 'rpc')
    return {
      yaml,
      puts: [
        { service: 'gateway', body: applyPolicyUpdate(presets.safe, run.policy ?? {}).policy },
      ],
    };
  return {
    yaml,
    puts: [
      ...(run.producer ? [{ service: 'producer' as const, body: run.producer }] : []),
      ...(run.worker ? [{ service: 'worker' as const, body: run.worker }] : []),
    ],
  };
}

/** The front of the last rung, its knee and runner-up, how they and the given policy compare. */
export function answerOf(
  rungs: Rung[],
  tuned: ServiceRun,
  names: readonly ObjectiveName[],
  seed: number,
): TuneAnswer | null {
  const last = rungs.at(-1);
  if (!last) return null;
  const feasible = last.evaluations.filter((evaluation) => evaluation.infeasible === null);
  if (feasible.length === 0) return null;
  const front = fronts(feasible, names)[0]!;
  const { best, runnerUp: nextOnFront } = knee(front, names);
  // Alone on the front: the runner-up is the best of the rest (the rung's ranking).
  const runnerUp = nextOnFront ?? feasible.find((evaluation) => evaluation !== best);
  const given = last.evaluations.find((evaluation) => evaluation.id === givenId) ?? null;
  const against = [...new Set([runnerUp, given])].filter(
    (other): other is Evaluation => other !== undefined && other !== null && other !== best,
  );
  const comparisons = against.flatMap((other) =>
    compareRuns([best.summary, other.summary], seed).filter((comparison) =>
      ['goodputRps', 'p99Ms', 'amplification'].includes(comparison.field),
    ),
  );
  return {
    rung: rungs.length,
    repeats: last.repeats,
    front,
    recommended: best,
    runnerUp: runnerUp ?? null,
    comparisons,
    given: { onFront: given !== null && front.includes(given), evaluation: given },
    apply: applyOf({ ...runOf(tuned, best.candidate), name: tuned.name }),
  };
}
