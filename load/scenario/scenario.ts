import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Scenario } from './shape.ts';
import { scenarioProblems } from './problems.ts';
import { ProblemsError } from '../../services/shared/problems.ts';

/**
 * The scenario as it runs on a stack whose producer publishes to a topic with these
 * subscribers (`cascade-lab up`, compose): every events run gets a row per subscriber.
 */
export function onTopic(scenario: Scenario, subscribers: string[]): Scenario {
  if (subscribers.length === 0) return scenario;
  return {
    ...scenario,
    runs: scenario.runs.map((run) =>
      run.target === 'events'
        ? { ...run, subscribers: subscribers.map((name) => ({ name })) }
        : run,
    ),
  };
}

/** A scenario file that does not validate: every problem, one line each, under its name. */
export class ScenarioError extends ProblemsError {
  constructor(file: string, problems: string[]) {
    super(problems, `${file}: invalid scenario`);
  }
}

/** Parses and validates a scenario; throws a ScenarioError listing every problem. */
export function parseScenario(text: string, file = 'scenario'): Scenario {
  // `<<` merge keys are YAML 1.1; scenario files use them to share a policy between runs.
  const document = parseDocument(text, { merge: true });
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((error) => `YAML: ${error.message.split('\n')[0]}`),
    );
  }
  const value: unknown = document.toJS();
  const problems = scenarioProblems(value);
  if (problems.length > 0) throw new ScenarioError(file, problems);
  return value as Scenario;
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), file);
}
