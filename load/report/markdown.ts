import type { ExperimentResult } from '../experiment/result.ts';
import { comparisonLines, formatThresholds, loadText, notes, tableRows } from './summary.ts';

/** summary.md: the table, its notes and the thresholds, for a reader on GitHub or in a terminal. */
export function markdown(result: ExperimentResult): string {
  const rows = tableRows(result);
  const table = [
    `| ${rows[0]!.join(' | ')} |`,
    `| ${rows[0]!.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
  const { scenario, environment } = result;
  return `# ${scenario.name}

${scenario.description ?? ''}

Run ${result.startedAt} on ${environment.platform}, ${environment.cpus} CPUs, Node ${environment.node}.
Load: \`${loadText(result)}\`${scenario.faults?.length ? `; faults: \`${JSON.stringify(scenario.faults)}\`` : ''}.

${table}

${[...notes(result), ...comparisonLines(result)].map((line) => `- ${line}`).join('\n')}
- rpc: ok/fail are answers to \`POST /rpc\`; latency is from the scheduled send to the answer.
- events: ok = jobs completed, fail = refused at publish + dead-lettered, lost = accepted − completed − dead-lettered;
  latency is end to end (publish → completion), proc is one processing attempt.
- attempts = calls that reached the downstream; amplification = attempts ÷ sent.

${result.thresholds.length ? `## Thresholds\n\n${formatThresholds(result)}\n` : ''}${result.runs
    .filter((run) => run.warnings.length > 0)
    .map((run) => `\n**${run.name}**: ${run.warnings.join('; ')}`)
    .join('')}
`;
}
