import type { RunSummary } from '../experiment/result.ts';
import { chartColors, escapeXml, niceStep, svgFrame } from './svg.ts';

export interface RepeatFigure {
  field: string;
  title: string;
}

/** The figures whose repeats the report draws: those runs are compared on, and the time to finish. */
export const repeatFigures: RepeatFigure[] = [
  { field: 'amplification', title: 'Amplification (downstream calls ÷ requests)' },
  { field: 'goodputRps', title: 'Goodput (ok per second, model time)' },
  { field: 'p99Ms', title: 'Latency p99 (ms, model time)' },
  { field: 'failed', title: 'Failed requests' },
  { field: 'durationMs', title: 'Time to finish (ms, model time)' },
];

const valueOf = (run: RunSummary, field: string): number | undefined => {
  const value = (run as unknown as Record<string, unknown>)[field];
  return typeof value === 'number' ? value : undefined;
};

/**
 * One figure across repeats as a strip chart, a row per run: every repeat a dot, the
 * interval a band, the median a tick. Hand-written SVG: uPlot draws series over time,
 * not categories, and this is a dozen elements per row.
 */
export function repeatsChart(runs: RunSummary[], figure: RepeatFigure): string {
  const rows = runs.map((run) => ({
    name: run.name,
    values: (run.repeats ?? [run]).map((repeat) => valueOf(repeat, figure.field)),
    median: valueOf(run, figure.field),
    interval: run.intervals?.[figure.field],
  }));
  const all = rows.flatMap((row) => row.values.filter((v): v is number => v !== undefined));
  if (all.length === 0) return '';
  const [low, high] = [Math.min(0, ...all), Math.max(...all)];
  const step = niceStep(high - low);
  const [xMin, xMax] = [Math.floor(low / step) * step, Math.ceil(high / step) * step || step];
  const rowHeight = 26;
  // Room on the right for the last tick's label, centred on the axis's end.
  const pad = { left: 110, right: 40, top: 30, bottom: 28 };
  const width = 560;
  const height = pad.top + rows.length * rowHeight + pad.bottom;
  const x = (value: number) =>
    pad.left + ((value - xMin) / (xMax - xMin)) * (width - pad.left - pad.right);
  const parts = svgFrame({ kind: 'repeats', width, height, title: figure.title, titleX: pad.left });
  const axisY = height - pad.bottom;
  for (let tick = xMin; tick <= xMax + step / 1e6; tick += step) {
    const label = Math.round(tick * 1000) / 1000;
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${pad.top - 4}" y2="${axisY}" stroke="#e5e7eb"/>`,
      `<text x="${x(tick)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${label}</text>`,
    );
  }
  rows.forEach((row, index) => {
    const color = chartColors[index % chartColors.length]!;
    const y = pad.top + index * rowHeight + rowHeight / 2;
    parts.push(
      `<text x="${pad.left - 8}" y="${y + 4}" text-anchor="end">${escapeXml(row.name)}</text>`,
    );
    if (row.interval && Number.isFinite(row.interval[0]))
      parts.push(
        `<rect x="${x(row.interval[0])}" y="${y - 7}" width="${Math.max(1, x(row.interval[1]) - x(row.interval[0]))}" height="14" fill="${color}" fill-opacity="0.15"/>`,
      );
    for (const value of row.values)
      if (value !== undefined)
        parts.push(
          `<circle cx="${x(value).toFixed(1)}" cy="${y}" r="4" fill="${color}" fill-opacity="0.55"/>`,
        );
    if (row.median !== undefined)
      parts.push(
        `<line x1="${x(row.median)}" x2="${x(row.median)}" y1="${y - 9}" y2="${y + 9}" stroke="${color}" stroke-width="2.5"/>`,
      );
  });
  parts.push('</svg>');
  return parts.join('');
}
