import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExperimentResult, RunSummary } from '../experiment/result.ts';
import { renderHtml } from './html.ts';

const columns: Array<[string, (run: RunSummary) => string]> = [
  ['run', (run) => run.name],
  ['target', (run) => run.target],
  ['sent', (run) => String(run.sent)],
  ['ok', (run) => String(run.ok)],
  ['fail', (run) => String(run.failed)],
  ['dropped', (run) => String(run.dropped)],
  ['lost', (run) => (run.target === 'events' ? String(run.lost) : '-')],
  ['retries', (run) => String(run.retries)],
  ['timeouts', (run) => String(run.timeouts)],
  ['cb_open', (run) => (run.target === 'rpc' ? String(run.cbOpen) : '-')],
  ['dlq', (run) => (run.target === 'events' ? String(run.dlq) : '-')],
  ['attempts', (run) => String(run.attempts)],
  ['amplif.', (run) => run.amplification.toFixed(2)],
  ['goodput/s', (run) => run.goodputRps.toFixed(1)],
  ['duration s', (run) => (run.durationMs / 1000).toFixed(2)],
  ['p50 ms', (run) => fmt(run.p50Ms)],
  ['p95 ms', (run) => fmt(run.p95Ms)],
  ['p99 ms', (run) => fmt(run.p99Ms)],
  ['mean ms', (run) => fmt(run.meanMs)],
  [
    'proc p50/p99 ms',
    (run) =>
      run.target === 'events' && run.processingP50Ms !== null
        ? `${fmt(run.processingP50Ms)}/${fmt(run.processingP99Ms)}`
        : '-',
  ],
  ['max queue', (run) => (run.target === 'events' ? String(run.maxQueueDepth) : '-')],
  ['max load', (run) => fmt(run.maxLoadFactor)],
  ['max lag ms', (run) => fmt(run.maxLoopLagMs)],
  [
    'recovery',
    (run) =>
      run.recoveryMs === null
        ? '-'
        : typeof run.recoveryMs === 'number'
          ? `${run.recoveryMs} ms`
          : run.recoveryMs,
  ],
];

function fmt(value: number | null): string {
  if (value === null) return '-';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function tableRows(result: ExperimentResult): string[][] {
  return [
    columns.map(([title]) => title),
    ...result.runs.map((run) => columns.map(([, cell]) => cell(run))),
  ];
}

/** The comparison as a plain-text table for the terminal. */
export function formatTable(result: ExperimentResult): string {
  const rows = tableRows(result);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return `${rows.map(line).join('\n')}\n`;
}

export function formatThresholds(result: ExperimentResult): string {
  return result.thresholds
    .map(
      (threshold) =>
        `${threshold.passed ? '✓' : '✗'} ${threshold.expression} (got ${threshold.value ?? 'no value'})`,
    )
    .join('\n');
}

function markdown(result: ExperimentResult): string {
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
Load: \`${JSON.stringify(scenario.load)}\`${scenario.faults?.length ? `; faults: \`${JSON.stringify(scenario.faults)}\`` : ''}.

${table}

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

/** Writes summary.json (everything, series included), summary.md and report.html into `dir`. */
export function writeSummary(result: ExperimentResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [
    path.join(dir, 'summary.json'),
    path.join(dir, 'summary.md'),
    path.join(dir, 'report.html'),
  ];
  writeFileSync(files[0]!, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(result));
  writeFileSync(files[2]!, renderHtml(result));
  return files;
}
