import path from 'node:path';
import { runExperiment } from './experiment.ts';
import { formatThresholds, formatTable, writeSummary } from './report/summary.ts';
import { loadScenario, ScenarioError } from './scenario.ts';

export const experimentHelp = `Usage:
  cascade-lab experiment <scenario.yaml> [--out DIR]

  Runs each run of the scenario on a fresh local stack (Redis + the four services),
  prints the comparison table and writes summary.json and summary.md to DIR
  (default reports/<scenario>-<time>). Exits 1 when a threshold fails.
`;

export async function runExperimentCommand(
  file: string | undefined,
  outDir: string | undefined,
  out: (text: string) => void,
  err: (text: string) => void,
  interactive: boolean,
): Promise<number> {
  if (file === undefined) {
    err(experimentHelp);
    return 2;
  }
  let scenario;
  try {
    scenario = loadScenario(file);
  } catch (error) {
    err(
      `${error instanceof ScenarioError ? error.message : `cannot read ${file}: ${(error as Error).message}`}\n`,
    );
    return 2;
  }
  const result = await runExperiment(scenario, {
    onRunStart: (run, index) =>
      err(
        `[${index + 1}/${scenario.runs.length}] ${run.name} (${run.target}): starting a fresh stack…\n`,
      ),
    onProgress: (run, p, queueDepth) => {
      const line = `  ${run}  ${(p.elapsedMs / 1000).toFixed(1)}s  sent ${p.sent}/${p.scheduled}  ok ${p.ok}  failed ${p.failed}  dropped ${p.dropped}${queueDepth === null ? '' : `  queue ${queueDepth}`}`;
      err(interactive ? `\r${line}\u001b[K` : `${line}\n`);
    },
  });
  if (interactive) err('\n');
  const dir =
    outDir ?? path.join('reports', `${scenario.name}-${result.startedAt.replace(/[:.]/g, '-')}`);
  const files = writeSummary(result, dir);
  out(formatTable(result));
  if (result.thresholds.length > 0) out(`${formatThresholds(result)}\n`);
  for (const run of result.runs)
    for (const warning of run.warnings) out(`warning (${run.name}): ${warning}\n`);
  out(`report: ${files.join(', ')}\n`);
  return result.thresholds.every((threshold) => threshold.passed) ? 0 : 1;
}
