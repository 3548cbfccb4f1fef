import type { ExperimentResult } from '../experiment/result.ts';
import { formatNotes, formatTable, formatThresholds } from './summary.ts';

/**
 * What `experiment` and `merge` print of a result: the table, its notes, the thresholds,
 * every warning (with the run, or the generator, it is about) and where the report is.
 * Answers the exit code: 1 when a threshold failed.
 */
export function printResult(
  result: ExperimentResult,
  files: string[],
  out: (text: string) => void,
): number {
  out(formatTable(result));
  out(formatNotes(result));
  if (result.thresholds.length > 0) out(`${formatThresholds(result)}\n`);
  for (const run of result.runs) {
    for (const warning of run.warnings) out(`warning (${run.name}): ${warning}\n`);
    for (const generator of run.generators ?? [])
      for (const warning of generator.warnings)
        out(`warning (${run.name}, generator ${generator.segment}): ${warning}\n`);
  }
  out(`report: ${files.join(', ')}\n`);
  return result.thresholds.every((threshold) => threshold.passed) ? 0 : 1;
}
