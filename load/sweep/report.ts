import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chartColors, escapeXml, niceStep } from '../report/svg.ts';
import type { CellResult, CellRun, SweepResult } from './run-sweep.ts';
import type { SweepValue } from '../scenario/sweep-spec.ts';
import { ruleText, type VerdictKind } from './verdict.ts';

/** The colour of each verdict on a map; a recovery is shaded from fast (light) to slow (dark). */
export const verdictColors: Record<VerdictKind | 'not run', string> = {
  stable: '#16a34a',
  recovered: '#f59e0b',
  metastable: '#dc2626',
  overloaded: '#4b5563',
  'no trigger': '#e5e7eb',
  'not run': '#ffffff',
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** ` 2/3` when a run's repeats disagree on its verdict (a stable one agrees with a recovery); else nothing. */
function agreement(run: Pick<CellRun, 'verdict' | 'counts'>): string {
  const total = Object.values(run.counts).reduce((sum, n) => sum + (n ?? 0), 0);
  const agreeing =
    run.verdict === 'recovered'
      ? (run.counts.recovered ?? 0) + (run.counts.stable ?? 0)
      : (run.counts[run.verdict] ?? 0);
  return total > 1 && agreeing < total ? ` ${agreeing}/${total}` : '';
}

/** A run's verdict in a few characters: `stable`, `1.2 s`, `meta`, `overl.`, and `2/3` when the repeats split. */
export function verdictShort(run: Pick<CellRun, 'verdict' | 'recoveryMs' | 'counts'>): string {
  const text =
    run.verdict === 'recovered'
      ? run.recoveryMs === null
        ? 'recov.'
        : seconds(run.recoveryMs)
      : run.verdict === 'metastable'
        ? 'meta'
        : run.verdict === 'overloaded'
          ? 'overl.'
          : run.verdict === 'no trigger'
            ? 'n/a'
            : 'stable';
  return `${text}${agreement(run)}`;
}

/** The cell at each place of a two-field grid, by `column,row`. */
const byPlace = (cells: CellResult[]) => new Map(cells.map((cell) => [cell.index.join(','), cell]));

/**
 * Edges between a metastable cell and a neighbour that is not (or the map's edge is not
 * drawn): the boundary of the metastable region, as [x1, y1, x2, y2] in grid units.
 */
export function metastableBoundary(
  columns: number,
  rows: number,
  isMetastable: (column: number, row: number) => boolean | undefined,
): Array<[number, number, number, number]> {
  const edges: Array<[number, number, number, number]> = [];
  for (let c = 0; c < columns; c += 1)
    for (let r = 0; r < rows; r += 1) {
      const here = isMetastable(c, r);
      if (here === undefined) continue;
      // Right and up neighbours: each inner edge once; an unknown neighbour draws nothing.
      const right = c + 1 < columns ? isMetastable(c + 1, r) : undefined;
      const up = r + 1 < rows ? isMetastable(c, r + 1) : undefined;
      if (right !== undefined && right !== here) edges.push([c + 1, r, c + 1, r + 1]);
      if (up !== undefined && up !== here) edges.push([c, r + 1, c + 1, r + 1]);
    }
  return edges;
}

/** One run's map over two fields: a square per cell, coloured by verdict, the metastable region outlined. */
export function heatmap(result: SweepResult, runName: string): string {
  const [xField, yField] = result.fields as [
    { path: string; values: SweepValue[] },
    { path: string; values: SweepValue[] },
  ];
  const places = byPlace(result.cells);
  const runOf = (c: number, r: number) =>
    places.get(`${c},${r}`)?.runs.find((run) => run.name === runName);
  const cellW = 74;
  const cellH = 40;
  const pad = { left: 96, top: 34, right: 16, bottom: 54 };
  const width = pad.left + xField.values.length * cellW + pad.right;
  const height = pad.top + yField.values.length * cellH + pad.bottom;
  const rows = yField.values.length;
  // Row 0 at the bottom: the second field grows upwards.
  const px = (c: number) => pad.left + c * cellW;
  const py = (r: number) => pad.top + (rows - r) * cellH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" data-run="${escapeXml(runName)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(runName)}: verdict per cell">`,
    `<text x="${pad.left}" y="20" font-size="14" font-weight="bold">${escapeXml(runName)}</text>`,
  ];
  // One scale for every map of the sweep, so that shades compare across runs.
  const slowest = Math.max(
    1,
    ...result.cells.flatMap((cell) =>
      cell.runs.flatMap((run) => (run.recoveryMs === null ? [] : [run.recoveryMs])),
    ),
  );
  xField.values.forEach((_, c) =>
    yField.values.forEach((__, r) => {
      const run = runOf(c, r);
      const cell = places.get(`${c},${r}`);
      const fill = run ? verdictColors[run.verdict] : verdictColors['not run'];
      // A recovery's shade: lighter when quick, full when it took the longest on this map.
      const opacity =
        run?.verdict === 'recovered' && run.recoveryMs !== null
          ? 0.35 + (0.65 * run.recoveryMs) / slowest
          : 1;
      const text = run ? verdictShort(run) : 'not run';
      const light =
        !run || run.verdict === 'no trigger' || (run.verdict === 'recovered' && opacity < 0.7);
      const title = run
        ? `${cell!.values.map(({ path: p, value }) => `${p}=${String(value)}`).join(', ')}: ${run.verdict}${run.recoveryMs === null ? '' : ` in ${run.recoveryMs} ms`}; goodput ${run.goodputRps}/s, amplification ${run.amplification}, p99 ${run.p99Ms ?? '-'} ms`
        : 'not run yet';
      const rect = `<rect x="${px(c) + 1}" y="${py(r + 1) + 1}" width="${cellW - 2}" height="${cellH - 2}" fill="${fill}" fill-opacity="${opacity.toFixed(2)}" stroke="#d1d5db" ${run ? '' : 'stroke-dasharray="4 3"'}><title>${escapeXml(title)}</title></rect>`;
      parts.push(
        cell ? `<a href="${escapeXml(cell.report)}">${rect}</a>` : rect,
        `<text x="${px(c) + cellW / 2}" y="${py(r + 1) + cellH / 2 + (run?.hostShaped ? 0 : 4)}" text-anchor="middle" fill="${light ? '#111' : '#fff'}" pointer-events="none">${escapeXml(text)}</text>`,
      );
      if (run?.hostShaped)
        parts.push(
          `<text x="${px(c) + cellW / 2}" y="${py(r + 1) + cellH / 2 + 14}" text-anchor="middle" font-size="10" fill="${light ? '#111' : '#fff'}" pointer-events="none">host-shaped</text>`,
        );
    }),
  );
  for (const [x1, y1, x2, y2] of metastableBoundary(xField.values.length, rows, (c, r) => {
    const run = runOf(c, r);
    return run ? run.verdict === 'metastable' : undefined;
  }))
    parts.push(
      `<line class="boundary" x1="${px(x1)}" y1="${py(y1)}" x2="${px(x2)}" y2="${py(y2)}" stroke="#111" stroke-width="3" stroke-linecap="round"/>`,
    );
  xField.values.forEach((value, c) =>
    parts.push(
      `<text x="${px(c) + cellW / 2}" y="${py(0) + 16}" text-anchor="middle" fill="#555">${escapeXml(String(value))}</text>`,
    ),
  );
  yField.values.forEach((value, r) =>
    parts.push(
      `<text x="${pad.left - 6}" y="${py(r + 1) + cellH / 2 + 4}" text-anchor="end" fill="#555">${escapeXml(String(value))}</text>`,
    ),
  );
  parts.push(
    `<text x="${pad.left + (xField.values.length * cellW) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xField.path)} →</text>`,
    `<text x="14" y="${pad.top + (rows * cellH) / 2}" text-anchor="middle" transform="rotate(-90 14 ${pad.top + (rows * cellH) / 2})">${escapeXml(yField.path)} →</text>`,
    '</svg>',
  );
  return parts.join('');
}

interface LineSeries {
  name: string;
  /** One value per x; null where there is none (not run, or no such figure). */
  ys: Array<number | null>;
  /** Points drawn as a cross at the top: e.g. metastable, where a recovery time has no value. */
  flags?: boolean[];
}

/** A small line chart over the swept values (equally spaced: they may be words), one line per run. */
export function lineChart(
  title: string,
  xs: SweepValue[],
  xLabel: string,
  series: LineSeries[],
  flagLabel?: string,
): string {
  const all = series.flatMap((line) => line.ys.filter((y): y is number => y !== null));
  const high = Math.max(0, ...all);
  const step = niceStep(high || 1);
  const yMax = Math.ceil(high / step) * step || step;
  const pad = { left: 56, right: 16, top: 30, bottom: 44 };
  const width = 560;
  const height = 260;
  const x = (i: number) =>
    pad.left + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="line-chart" width="${width}" height="${height + 18 * series.length}" viewBox="0 0 ${width} ${height + 18 * series.length}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="${pad.left}" y="18" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let tick = 0; tick <= yMax + step / 1e6; tick += step)
    parts.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>`,
      `<text x="${pad.left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${Math.round(tick * 1000) / 1000}</text>`,
    );
  xs.forEach((value, i) =>
    parts.push(
      `<text x="${x(i)}" y="${height - pad.bottom + 16}" text-anchor="middle" fill="#555">${escapeXml(String(value))}</text>`,
    ),
  );
  parts.push(
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  );
  series.forEach((line, index) => {
    const color = chartColors[index % chartColors.length]!;
    // Broken where a value is missing, so a gap is not drawn as a line.
    let path = '';
    line.ys.forEach((v, i) => {
      if (v === null) return;
      path += `${path === '' || line.ys[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    });
    if (path)
      parts.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"/>`);
    line.ys.forEach((v, i) => {
      if (v !== null)
        parts.push(
          `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"/>`,
        );
      else if (line.flags?.[i])
        parts.push(
          `<text class="flag" x="${x(i).toFixed(1)}" y="${pad.top + 4 + index * 12}" text-anchor="middle" font-weight="bold" fill="${color}">✕</text>`,
        );
    });
    parts.push(
      `<rect x="${pad.left}" y="${height + 18 * index - 2}" width="12" height="12" fill="${color}"/>`,
      `<text x="${pad.left + 18}" y="${height + 18 * index + 8}">${escapeXml(line.name)}${flagLabel && line.flags?.some(Boolean) ? ` (✕ ${escapeXml(flagLabel)})` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The one-field sweep's charts: goodput, amplification and recovery time against the field. */
function lineCharts(result: SweepResult): string {
  const [field] = result.fields as [{ path: string; values: SweepValue[] }];
  const cellAt = (i: number) => result.cells.find((cell) => cell.index[0] === i);
  const figure = (pick: (run: CellRun) => number | null) =>
    result.runs.map((name) => ({
      name,
      ys: field.values.map((_, i) => {
        const run = cellAt(i)?.runs.find((candidate) => candidate.name === name);
        return run ? pick(run) : null;
      }),
      flags: field.values.map(
        (_, i) => cellAt(i)?.runs.find((run) => run.name === name)?.verdict === 'metastable',
      ),
    }));
  const recovery = (run: CellRun) =>
    run.verdict === 'recovered'
      ? (run.recoveryMs ?? 0) / 1000
      : run.verdict === 'stable'
        ? 0
        : null;
  return [
    lineChart(
      'Goodput (ok per second, model time)',
      field.values,
      field.path,
      figure((run) => run.goodputRps).map(({ flags: _f, ...line }) => line),
    ),
    lineChart(
      'Amplification (downstream calls ÷ requests)',
      field.values,
      field.path,
      figure((run) => run.amplification).map(({ flags: _f, ...line }) => line),
    ),
    lineChart(
      'Recovery after the trigger (s, model time; stable = 0)',
      field.values,
      field.path,
      figure(recovery),
      'metastable: did not recover',
    ),
  ].join('');
}

/** The table of every cell and run: verdict, recovery and the medians. */
export function cellRows(result: SweepResult): string[][] {
  const header = [
    ...result.fields.map((field) => field.path),
    'run',
    'verdict',
    'recovery',
    'goodput/s',
    'amplif.',
    'p99 ms',
    'failed',
    'host p99 ms',
  ];
  const rows = result.cells.flatMap((cell) =>
    cell.runs.map((run) => [
      ...cell.values.map(({ value }) => String(value)),
      run.name,
      `${run.verdict}${agreement(run)}`,
      run.recoveryMs === null ? '-' : `${run.recoveryMs} ms`,
      run.goodputRps.toFixed(1),
      run.amplification?.toFixed(2) ?? '-',
      run.p99Ms === null ? '-' : String(run.p99Ms),
      String(run.failed),
      `${run.hostOverheadP99Ms ?? '-'}${run.hostShaped ? ' (shaped)' : ''}`,
    ]),
  );
  return [header, ...rows];
}

/** The map in text: for each run, a grid of verdicts (rows: the second field, top = largest). */
export function formatSweep(result: SweepResult): string {
  const lines: string[] = [];
  const [xField, yField] = result.fields;
  const places = byPlace(result.cells);
  for (const name of result.runs) {
    lines.push(`${name}:`);
    const short = (cell: CellResult | undefined) => {
      const run = cell?.runs.find((candidate) => candidate.name === name);
      return run ? verdictShort(run) : '…';
    };
    if (!yField) {
      const labels = xField!.values.map((value) => `${xField!.path}=${String(value)}`);
      const width = Math.max(...labels.map((label) => label.length));
      labels.forEach((label, c) =>
        lines.push(`  ${label.padEnd(width)}  ${short(places.get(String(c)))}`),
      );
      continue;
    }
    const colWidth = Math.max(8, ...xField!.values.map((v) => String(v).length + 1));
    const labelWidth = Math.max(...yField.values.map((v) => String(v).length));
    for (let r = yField.values.length - 1; r >= 0; r -= 1)
      lines.push(
        `  ${String(yField.values[r]).padStart(labelWidth)} │${xField!.values
          .map((_, c) => short(places.get(`${c},${r}`)).padStart(colWidth))
          .join('')}`,
      );
    lines.push(
      `  ${' '.repeat(labelWidth)} └${'─'.repeat(colWidth * xField!.values.length)}`,
      `  ${' '.repeat(labelWidth)}  ${xField!.values.map((v) => String(v).padStart(colWidth)).join('')}`,
      `  rows: ${yField.path}; columns: ${xField!.path}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The lines every figure is read with: scale, host overhead, repeats, where it ran, the rule. */
export function sweepNotes(result: SweepResult): string[] {
  const runs = result.cells.flatMap((cell) => cell.runs);
  const shaped = runs.filter((run) => run.hostShaped).length;
  const overheads = runs.flatMap((run) =>
    run.hostOverheadP99Ms === null ? [] : [run.hostOverheadP99Ms],
  );
  const resumed = result.cells.filter((cell) => cell.resumed).length;
  return [
    `Time scale ${result.timeScale}: every time constant ran × ${result.timeScale}; every figure is in model time.`,
    `Host overhead per downstream call, p99: ${overheads.length ? `${Math.min(...overheads)}–${Math.max(...overheads)} ms` : 'not measured'} (model time); ${shaped} of ${runs.length} cell runs host-shaped${shaped ? ' (marked): there the machine, not only the policy, decided' : ''}.`,
    `${result.repeat} repeat${result.repeat === 1 ? '' : 's'} per cell and run, on ${result.stack}; ${result.cells.length} of ${result.cellCount} cells done${resumed ? ` (${resumed} from an earlier invocation)` : ''}.`,
    ruleText(result.rule),
  ];
}

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
<p class="legend">${(['stable', 'recovered', 'metastable', 'overloaded', 'no trigger'] as const)
          .map((kind) => `<span><i style="background:${verdictColors[kind]}"></i>${kind}</span>`)
          .join(
            ' ',
          )} · a recovery is darker the longer it took (one scale for every map) · black line: the edge of the metastable region · <code>2/3</code>: repeats that agree · click a cell for its runs.</p>`
      : `<div class="maps">${lineCharts(result)}</div>`;
  const warnings = result.cells.flatMap((cell) =>
    cell.warnings.map(
      (warning) =>
        `${cell.values.map(({ path: p, value }) => `${p}=${String(value)}`).join(', ')} · ${warning}`,
    ),
  );
  const { scenario, environment } = result;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cascade-lab sweep: ${escapeXml(scenario.name)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111; }
.maps { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.legend span { margin-right: 10px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border: 1px solid #ccc; }
.table { overflow-x: auto; } table { border-collapse: collapse; font-size: 12px; margin: 12px 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
.note { color: #555; font-size: 12px; }
</style></head><body>
<h1>Sweep: ${escapeXml(scenario.name)}</h1>
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
${warnings.length ? `<ul class="note">${warnings.map((w) => `<li>${escapeXml(w)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
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
