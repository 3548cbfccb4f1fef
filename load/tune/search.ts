import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ProblemsError } from '../../services/shared/problems.ts';
import { type ExperimentOptions, runExperiment } from '../experiment/run-experiment.ts';
import type { ExperimentResult, RunSummary } from '../experiment/result.ts';
import { writeSummary } from '../report/write.ts';
import { scenarioProblems } from '../scenario/problems.ts';
import type { Run, ServiceRun } from '../scenario/runs.ts';
import type { Scenario } from '../scenario/shape.ts';
import { type ObjectiveName, objectiveNames, tuneDefaults } from '../scenario/tune-spec.ts';
import { type Point, rank } from './pareto.ts';
import { type Candidate, candidatesOf, runOf } from './space.ts';

/** A tune that cannot run: every problem, one line each. */
export class TuneError extends ProblemsError {}

/** One candidate's runs at one rung, and what they say. */
export interface Evaluation extends Point {
  candidate: Candidate;
  summary: RunSummary;
  /** Why it is off the front whatever its objectives (a constraint it broke), else null. */
  infeasible: string | null;
}

export interface Rung {
  repeats: number;
  /** Best first: feasible by front and distance to the ideal, then the infeasible. */
  evaluations: Evaluation[];
  experiment: ExperimentResult;
}

export interface TuneProgress {
  rung: number;
  rungs: number;
  candidate: string;
  repeat: number;
  repeats: number;
  runsDone: number;
  runsPlanned: number;
  elapsedMs: number;
  /** From the mean run so far; null before the first run ends. */
  leftMs: number | null;
}

export interface SearchOptions extends Omit<ExperimentOptions, 'onRunStart' | 'repeat'> {
  /** Rungs that would end past it are not started (wall time). */
  budgetMs?: number | undefined;
  /** Each rung's experiment is written under it, and read back when the same tune runs again. */
  outDir: string;
  onTuneProgress?: (progress: TuneProgress) => void;
}

/** How many candidates go on from a rung of `n`: the best third, at least two. */
export const keepOf = (n: number) => Math.min(n, Math.max(2, Math.ceil(n / 3)));

/** The runs a search makes when every rung runs: n × its repeats at each, n cut by keepOf. */
export function plannedRuns(candidates: number, rungs: readonly number[]): number {
  let planned = 0;
  for (let i = 0, n = candidates; i < rungs.length; i += 1, n = keepOf(n)) planned += n * rungs[i]!;
  return planned;
}

/** The run the scenario's `tune` searches over. */
export function tunedRunOf(scenario: Scenario): ServiceRun {
  const name = scenario.tune?.run;
  const run: Run | undefined = name
    ? scenario.runs.find((candidate) => candidate.name === name)
    : scenario.runs[0];
  if (!run || run.target === 'http')
    throw new TuneError([`tune.run: ${name ?? 'the first run'} has no policy of ours to tune`]);
  return run;
}

const objectivesOf = (summary: RunSummary): Record<ObjectiveName, number> => ({
  goodput: summary.goodputRps,
  // No answer at all is the worst tail there is.
  p99: summary.p99Ms ?? Number.POSITIVE_INFINITY,
  // Null only for a run straight at a service, which is never tuned (tunedRunOf).
  amplification: summary.amplification ?? 1,
});

function infeasibility(summary: RunSummary, scenario: Scenario): string | null {
  const constraints = scenario.tune?.constraints ?? {};
  if ((constraints.nothingLost ?? true) && 'lost' in summary && summary.lost > 0)
    return `lost ${summary.lost} accepted jobs`;
  const verdict = summary.recovery.verdict;
  if (constraints.recovered && !['stable', 'recovered', 'no trigger'].includes(verdict))
    return `did not recover (${verdict})`;
  const errorRate = summary.sent === 0 ? 0 : summary.failed / summary.sent;
  if (constraints.maxErrorRate !== undefined && errorRate > constraints.maxErrorRate)
    return `error rate ${(100 * errorRate).toFixed(1)} % > ${(100 * constraints.maxErrorRate).toFixed(1)} %`;
  return null;
}

/** The rung's scenario: one run per candidate (interleaved on one stack), no thresholds. */
const rungScenario = (scenario: Scenario, runs: ServiceRun[], repeats: number): Scenario => ({
  ...scenario,
  runs,
  repeat: repeats,
  thresholds: [],
  sweep: undefined,
  tune: undefined,
});

/** A rung written by an earlier go of the same tune, when it ran exactly these runs. */
function earlier(dir: string, runs: ServiceRun[], repeats: number): ExperimentResult | undefined {
  const file = path.join(dir, 'summary.json');
  if (!existsSync(file)) return undefined;
  const result = JSON.parse(readFileSync(file, 'utf8')) as ExperimentResult;
  const same =
    result.repeat === repeats &&
    JSON.stringify(result.scenario.runs) === JSON.stringify(runs) &&
    result.runs.length === runs.length;
  return same ? result : undefined;
}

/**
 * Successive halving: every candidate on the first rung's repeats, then the best third (at
 * least two) on the next rung's, and so on; ranked by Pareto front, then by distance to the
 * ideal. Each rung is one experiment (its candidates interleaved on one stack). Stops before
 * a rung its estimate says would end past the budget.
 */
export async function searchPolicies(
  scenario: Scenario,
  options: SearchOptions,
): Promise<{ rungs: Rung[]; stoppedEarly: string | null; candidates: Candidate[] }> {
  const spec = scenario.tune;
  if (!spec) throw new TuneError(['tune: missing (the fields to search, at least)']);
  const tuned = tunedRunOf(scenario);
  const names = spec.objectives ?? [...objectiveNames];
  const candidates = candidatesOf(
    spec.fields,
    spec.candidates ?? tuneDefaults.candidates,
    scenario.seed ?? 1,
  );
  const problems = candidates.flatMap((candidate) => {
    try {
      return scenarioProblems(rungScenario(scenario, [runOf(tuned, candidate)], 1)).map(
        (line) => `candidate ${candidate.id}: ${line.replace(/runs\[0\]/, tuned.name)}`,
      );
    } catch (error) {
      return [`candidate ${candidate.id}: ${(error as Error).message}`];
    }
  });
  if (problems.length > 0) throw new TuneError([...new Set(problems)].slice(0, 20));

  const repeatsPerRung = spec.rungs ?? tuneDefaults.rungs;
  let alive = candidates;
  const planned = plannedRuns(alive.length, repeatsPerRung);
  const started = performance.now();
  let runsDone = 0;
  const rungs: Rung[] = [];
  let stoppedEarly: string | null = null;
  for (const [index, repeats] of repeatsPerRung.entries()) {
    const elapsedMs = performance.now() - started;
    const perRun = runsDone > 0 ? elapsedMs / runsDone : null;
    if (options.budgetMs !== undefined && perRun !== null && rungs.length > 0) {
      const estimate = alive.length * repeats * perRun;
      if (elapsedMs + estimate > options.budgetMs) {
        stoppedEarly = `rung ${index + 1} (${alive.length} candidates × ${repeats} repeats, about ${Math.round(estimate / 60_000)} min) would end past the budget`;
        break;
      }
    }
    const runs = alive.map((candidate) => runOf(tuned, candidate));
    const dir = path.join(options.outDir, 'rungs', String(index + 1));
    const reused = earlier(dir, runs, repeats);
    const experiment =
      reused ??
      (await runExperiment(rungScenario(scenario, runs, repeats), {
        ...options,
        repeat: repeats,
        onRunStart: (run, _i, repeat) => {
          const spent = performance.now() - started;
          options.onTuneProgress?.({
            rung: index + 1,
            rungs: repeatsPerRung.length,
            candidate: run.name,
            repeat,
            repeats,
            runsDone,
            runsPlanned: planned,
            elapsedMs: spent,
            leftMs: runsDone > 0 ? ((planned - runsDone) * spent) / runsDone : null,
          });
          runsDone += 1;
        },
      }));
    if (reused) runsDone += runs.length * repeats;
    else writeSummary(experiment, dir);
    const evaluations = experiment.runs.map((summary): Evaluation => {
      const candidate = alive.find((c) => c.id === summary.name)!;
      return {
        id: candidate.id,
        candidate,
        summary,
        objectives: objectivesOf(summary),
        infeasible: infeasibility(summary, scenario),
      };
    });
    const feasible = evaluations.filter((evaluation) => evaluation.infeasible === null);
    const ranked = [...rank(feasible, names), ...evaluations.filter((e) => e.infeasible !== null)];
    rungs.push({ repeats, evaluations: ranked, experiment });
    if (feasible.length === 0) {
      stoppedEarly = `no candidate met the constraints at rung ${index + 1}`;
      break;
    }
    alive = ranked
      .slice(0, Math.min(keepOf(alive.length), feasible.length))
      .map((e) => e.candidate);
  }
  return { rungs, stoppedEarly, candidates };
}
