import { applyPolicyUpdate, presets } from '../../services/gateway/policy.ts';
import { runExperiment } from '../experiment/run-experiment.ts';
import type { ExperimentResult } from '../experiment/result.ts';
import type { ServiceRun } from '../scenario/runs.ts';
import type { Scenario } from '../scenario/shape.ts';
import { type ObjectiveName, objectiveNames } from '../scenario/tune-spec.ts';
import { answerOf, type TuneAnswer } from './answer.ts';
import { searchPolicies, type SearchOptions, tunedRunOf } from './search.ts';
import { type Candidate, candidateLabel, runOf } from './space.ts';

export interface TuneResult {
  scenario: string;
  run: string;
  target: ServiceRun['target'];
  objectives: ObjectiveName[];
  timeScale: number;
  startedAt: string;
  elapsedMs: number;
  candidates: Array<Candidate & { label: string }>;
  rungs: Array<{
    repeats: number;
    /** Best first, as ranked for promotion. */
    evaluations: Array<{
      id: string;
      objectives: Record<ObjectiveName, number>;
      intervals: Record<string, [number, number]>;
      infeasible: string | null;
    }>;
  }>;
  stoppedEarly: string | null;
  answer: TuneAnswer | null;
  /** The recommendation, the policy as given and (rpc) `safe` on `tune.generalise`'s load. */
  generalisation: ExperimentResult | null;
}

/**
 * The runs that check whether the answer holds on a load the search never saw: the
 * recommended policy, the scenario's own and, for a call, the `safe` preset.
 */
function generalisationRuns(tuned: ServiceRun, answer: TuneAnswer): ServiceRun[] {
  const runs: ServiceRun[] = [
    { ...runOf(tuned, answer.recommended.candidate), name: 'recommended' },
    { ...tuned, name: 'given' },
  ];
  // By what the policy expands to: `preset: safe` with a field changed is not `safe`.
  if (
    tuned.target === 'rpc' &&
    applyPolicyUpdate(presets.safe, tuned.policy ?? {}).preset !== 'safe'
  )
    runs.push({ ...tuned, name: 'safe', policy: { preset: 'safe' } });
  return runs;
}

/** `cascade-lab tune`: the search, its answer, and the answer re-run on another load. */
export async function runTune(scenario: Scenario, options: SearchOptions): Promise<TuneResult> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const tuned = tunedRunOf(scenario);
  const objectives = [...(scenario.tune?.objectives ?? objectiveNames)];
  const { rungs, stoppedEarly, candidates } = await searchPolicies(scenario, options);
  const answer = answerOf(rungs, tuned, objectives, scenario.seed ?? 1);
  const generalise = scenario.tune?.generalise;
  const generalisation =
    answer && generalise
      ? await runExperiment(
          {
            ...scenario,
            load: generalise.load,
            runs: generalisationRuns(tuned, answer),
            repeat: generalise.repeat ?? answer.repeats,
            thresholds: [],
            sweep: undefined,
            tune: undefined,
          },
          { ...options, repeat: generalise.repeat ?? answer.repeats },
        )
      : null;
  return {
    scenario: scenario.name,
    run: tuned.name,
    target: tuned.target,
    objectives,
    timeScale: rungs[0]?.experiment.timeScale ?? 1,
    startedAt,
    elapsedMs: Math.round(performance.now() - started),
    candidates: candidates.map((candidate) => ({ ...candidate, label: candidateLabel(candidate) })),
    rungs: rungs.map((rung) => ({
      repeats: rung.repeats,
      evaluations: rung.evaluations.map((evaluation) => ({
        id: evaluation.id,
        objectives: evaluation.objectives,
        intervals: evaluation.summary.intervals ?? {},
        infeasible: evaluation.infeasible,
      })),
    })),
    stoppedEarly,
    answer,
    generalisation,
  };
}
