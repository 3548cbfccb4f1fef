import { lineChart } from '../report/line-chart.ts';
import { escapeXml, svgFrame } from '../report/svg.ts';
import type { CellResult, CellRun, SweepResult } from './run-sweep.ts';
import type { SweepValue } from '../scenario/sweep-spec.ts';
import { type RecoveryKind, ruleText } from '../experiment/recovery.ts';

/** The colour of each verdict on a map; a recovery is shaded from fast (light) to slow (dark). */
export const verdictColors: Record<RecoveryKind | 'not run', string> = {
  stable: '#16a34a',
  recovered: '#f59e0b',
  'did not recover': '#dc2626',
  'fault still active': '#a855f7',
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

/** A run's verdict in a few characters: `stable`, `1.2 s`, `down`, `overl.`, and `2/3` when the repeats split. */
export function verdictShort(run: Pick<CellRun, 'verdict' | 'recoveryMs' | 'counts'>): string {
  const text =
    run.verdict === 'recovered'
      ? run.recoveryMs === null
        ? 'recov.'
        : seconds(run.recoveryMs)
      : run.verdict === 'did not recover'
        ? 'down'
        : run.verdict === 'overloaded'
          ? 'overl.'
          : run.verdict === 'fault still active'
            ? 'fault'
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
  const parts = svgFrame({
    kind: 'heatmap',
    attributes: `data-run="${escapeXml(runName)}"`,
    width,
    height,
    title: runName,
    label: `${runName}: verdict per cell`,
    titleX: pad.left,
  });
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
    return run ? run.verdict === 'did not recover' : undefined;
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

/** The one-field sweep's charts: goodput, amplification and recovery time against the field. */
export function lineCharts(result: SweepResult): string {
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
        (_, i) => cellAt(i)?.runs.find((run) => run.name === name)?.verdict === 'did not recover',
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
