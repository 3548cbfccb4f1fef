import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fmt } from '../report/columns.ts';
import { reportPage } from '../report/page.ts';
import { chartColors, escapeXml, niceStep, svgFrame } from '../report/svg.ts';
import { formatTune } from './report.ts';
import type { TuneResult } from './run-tune.ts';

/**
 * Every candidate of the last rung as a point, p99 across and goodput up, its amplification
 * in its label; the front joined by a line, the recommendation a star. Hand-written SVG:
 * uPlot draws series over time, and this is one point per candidate.
 */
export function frontChart(result: TuneResult): string {
  const last = result.rungs.at(-1);
  const answer = result.answer;
  if (!last || !answer) return '';
  const points = last.evaluations.filter((e) => Number.isFinite(e.objectives.p99));
  if (points.length === 0) return '';
  // Candidates dropped at an earlier rung: where their last rung put them, hollow.
  const shown = new Set(points.map((e) => e.id));
  const dropped = result.rungs
    .slice(0, -1)
    .reverse()
    .flatMap((rung) => rung.evaluations)
    .filter((e) => Number.isFinite(e.objectives.p99) && !shown.has(e.id) && shown.add(e.id));
  const [width, height, left, right, top, bottom] = [760, 420, 64, 70, 36, 44];
  const xs = [...points, ...dropped].map((e) => e.objectives.p99);
  const ys = [...points, ...dropped].map((e) => e.objectives.goodput);
  const span = (values: number[]) => {
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = high > low ? (high - low) * 0.1 : Math.max(1, Math.abs(high) * 0.1);
    return [low - pad, high + pad] as const;
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y: number) => height - bottom - ((y - y0) / (y1 - y0)) * (height - top - bottom);
  const ticks = (from: number, to: number) => {
    const step = niceStep(to - from);
    const first = Math.ceil(from / step) * step;
    return Array.from({ length: Math.floor((to - first) / step) + 1 }, (_, i) => first + i * step);
  };
  const onFront = new Set(answer.front.map((e) => e.id));
  const front = points
    .filter((e) => onFront.has(e.id))
    .sort((a, b) => a.objectives.p99 - b.objectives.p99);
  const parts = [
    ...svgFrame({
      kind: 'tune-front',
      width,
      height,
      titleX: left,
      title:
        'Every candidate: p99 (ms, model time) across, goodput (ok/s) up; label: amplification',
    }),
    ...ticks(x0, x1).map(
      (x) =>
        `<line x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${height - bottom}" stroke="#eee"/><text x="${px(x)}" y="${height - bottom + 16}" text-anchor="middle" fill="#555">${fmt(x)}</text>`,
    ),
    ...ticks(y0, y1).map(
      (y) =>
        `<line x1="${left}" x2="${width - right}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end" fill="#555">${fmt(y)}</text>`,
    ),
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">p99 ms</text>`,
    `<polyline fill="none" stroke="${chartColors[0]}" stroke-width="1.5" points="${front.map((e) => `${px(e.objectives.p99)},${py(e.objectives.goodput)}`).join(' ')}"/>`,
    ...dropped.map(
      (e) =>
        `<g data-candidate="${escapeXml(e.id)}"><circle cx="${px(e.objectives.p99)}" cy="${py(e.objectives.goodput)}" r="4" fill="none" stroke="#999"/><text x="${px(e.objectives.p99) + 7}" y="${py(e.objectives.goodput) + 4}" font-size="10" fill="#777">${escapeXml(e.id)}</text></g>`,
    ),
    ...points.map((e) => {
      const [x, y] = [px(e.objectives.p99), py(e.objectives.goodput)];
      const recommended = e.id === answer.recommended.id;
      const colour = e.infeasible ? '#999' : onFront.has(e.id) ? chartColors[0] : chartColors[1];
      const mark = recommended
        ? `<text x="${x}" y="${y + 6}" text-anchor="middle" font-size="20" fill="${chartColors[2]}">★</text>`
        : `<circle cx="${x}" cy="${y}" r="5" fill="${colour}"/>`;
      return `<g data-candidate="${escapeXml(e.id)}">${mark}<text x="${x + 9}" y="${y - 6}" font-size="11">${escapeXml(e.id)} ×${fmt(e.objectives.amplification)}</text></g>`;
    }),
    '</svg>',
  ];
  return parts.join('\n');
}

const legend = [
  [chartColors[0], '● on the front'],
  [chartColors[1], '● dominated'],
  ['#999', '● off (a constraint)'],
  ['#777', '○ dropped at an earlier rung (fewer repeats)'],
  [chartColors[2], '★ recommended'],
]
  .map(([colour, text]) => `<span style="color:${colour}">${text}</span>`)
  .join(' · ');

/** report.html: the front as a chart, then everything `tune` printed. */
export function writeTunePage(result: TuneResult, dir: string): string {
  const file = path.join(dir, 'report.html');
  writeFileSync(
    file,
    reportPage({
      title: `tune ${result.scenario}`,
      style: 'pre { font-size: 12px; background: #f6f6f6; padding: 12px; overflow-x: auto; }',
      body: `<h1>tune ${escapeXml(result.scenario)} / ${escapeXml(result.run)}</h1>
<p class="note">${escapeXml(result.startedAt)} · time scale ${result.timeScale}: figures in model time · every candidate's runs are under rungs/</p>
${frontChart(result)}
<p class="note">${legend}</p>
<p class="note">every candidate's runs, rung by rung: ${result.rungs.map((_, i) => `<a href="rungs/${i + 1}/report.html">rung ${i + 1}</a>`).join(' · ')}</p>
<pre>${escapeXml(formatTune(result))}</pre>`,
    }),
  );
  return file;
}
