import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reportPage } from '../report/page.ts';
import { escapeXml } from '../report/svg.ts';
import { cellRows, formatSweep, heatmap, lineCharts, sweepNotes, verdictColors } from './report.ts';
import type { SweepResult } from './run-sweep.ts';

/** An offline report: a map per run (two fields) or lines against the field (one), and the table of cells. */
export function renderSweepHtml(result: SweepResult): string {
  const rows = cellRows(result);
  const table = `<table><thead><tr>${rows[0]!.map((cell) => `<th>${escapeXml(cell)}</th>`).join('')}<th>cell</th></tr></thead><tbody>${rows
    .slice(1)
    .map((row, i) => {
      const cell = result.cells[Math.floor(i / result.runs.length)];
      return `<tr>${row.map((value) => `<td>${escapeXml(value)}</td>`).join('')}<td>${cell ? `<a href="${escapeXml(cell.report)}">report</a>` : ''}</td></tr>`;
    })
    .join('')}</tbody></table>`;
  const charts =
    result.fields.length === 2
      ? `<div class="maps">${result.runs.map((name) => heatmap(result, name)).join('')}</div>
<p class="legend">${(
          [
            'stable',
            'recovered',
            'did not recover',
            'fault still active',
            'overloaded',
            'no trigger',
          ] as const
        )
          .map((kind) => `<span><i style="background:${verdictColors[kind]}"></i>${kind}</span>`)
          .join(
            ' ',
          )} · a recovery is darker the longer it took (one scale for every map) · black line: the edge of the region that did not recover (metastable) · <code>2/3</code>: repeats that agree · click a cell for its runs.</p>`
      : `<div class="maps">${lineCharts(result)}</div>`;
  const warnings = result.cells.flatMap((cell) =>
    cell.warnings.map(
      (warning) =>
        `${cell.values.map(({ path: p, value }) => `${p}=${String(value)}`).join(', ')} · ${warning}`,
    ),
  );
  const { scenario, environment } = result;
  return reportPage({
    title: `cascade-lab sweep: ${scenario.name}`,
    style: `.maps { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.legend span { margin-right: 10px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #ccc; }`,
    body: `<h1>Sweep: ${escapeXml(scenario.name)}</h1>
<p>${escapeXml(scenario.description ?? '')}</p>
<p class="note">Started ${escapeXml(result.startedAt)} on ${escapeXml(environment.platform)}, ${environment.cpus} CPUs, Node ${escapeXml(environment.node)}.
Swept: ${result.fields.map((field) => `<code>${escapeXml(field.path)}</code> ∈ {${field.values.map((v) => escapeXml(String(v))).join(', ')}}`).join(' × ')}.
Load: <code>${escapeXml(JSON.stringify(scenario.load))}</code>.</p>
<ul class="note">${sweepNotes(result)
      .map((line) => `<li>${escapeXml(line)}</li>`)
      .join('')}</ul>
${charts}
<h2>Cells</h2>
<div class="table">${table}</div>
${warnings.length ? `<ul class="note">${warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : ''}`,
  });
}

function markdown(result: SweepResult): string {
  const rows = cellRows(result);
  return `# Sweep: ${result.scenario.name}

${result.scenario.description ?? ''}

\`\`\`
${formatSweep(result)}\`\`\`

| ${rows[0]!.join(' | ')} |
| ${rows[0]!.map(() => '---').join(' | ')} |
${rows
  .slice(1)
  .map((row) => `| ${row.join(' | ')} |`)
  .join('\n')}

${sweepNotes(result)
  .map((line) => `- ${line}`)
  .join('\n')}
`;
}

/** Writes summary.json (every cell with its repeats), summary.md and report.html into `dir`. */
export function writeSweepReport(result: SweepResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = ['summary.json', 'summary.md', 'report.html'].map((file) => path.join(dir, file));
  writeFileSync(files[0]!, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(result));
  writeFileSync(files[2]!, renderSweepHtml(result));
  return files;
}
