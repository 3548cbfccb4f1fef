import type { StackUrls } from '../experiment/target.ts';
import { type Scenario } from '../scenario/shape.ts';

/** `experiment --segment`: the run it is a generator of, and every problem with the flags. */
export function segmentProblems(
  scenario: Scenario,
  options: { run?: string | undefined },
  flags: { timeScale?: number | 'auto'; repeat?: number },
  urls: StackUrls | undefined,
  generators: number,
): { problems: string[]; run?: Scenario['runs'][number]; timeScale: number } {
  const problems: string[] = [];
  const names = scenario.runs.map((run) => run.name);
  const run =
    options.run !== undefined
      ? scenario.runs.find((candidate) => candidate.name === options.run)
      : scenario.runs.length === 1
        ? scenario.runs[0]
        : undefined;
  if (!run)
    problems.push(
      options.run === undefined
        ? `--run: a generator of a split run runs one run; name one of ${names.join(', ')}`
        : `--run: the scenario has no run "${options.run}" (it has ${names.join(', ')})`,
    );
  const timeScale = flags.timeScale ?? scenario.timeScale ?? 1;
  if (timeScale === 'auto')
    problems.push('--time-scale: auto probes with one generator; give every generator a number');
  if ((flags.repeat ?? 1) > 1) problems.push('--repeat: a split run runs once');
  if (generators > 1) problems.push('--generators: a split run has one generator per --segment');
  if (run && run.target !== 'http' && !urls)
    problems.push(
      '--urls: the generators of a split run share one running stack (cascade-lab up, compose, Kubernetes)',
    );
  if (run?.target === 'events' && (run.killWorker || run.subscribers))
    problems.push(
      `--run: ${run.name} ${run.killWorker ? 'kills a worker' : 'names its subscribers'}, which needs a fresh local stack`,
    );
  return { problems, ...(run ? { run } : {}), timeScale: timeScale === 'auto' ? 1 : timeScale };
}
