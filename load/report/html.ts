import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ExperimentResult } from '../experiment/result.ts';
import { repeatFigures, repeatsChart } from './repeats-chart.ts';
import { loadText, notes, signed, tableRows, thresholdLines, verdictText } from './summary.ts';
import { reportPage } from './page.ts';
import { escapeXml as escapeHtml } from './svg.ts';

const require = createRequire(import.meta.url);
const asset = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');

/** Runs in the page: one uPlot chart per metric, one line per run, fault windows shaded. */
const clientScript = `
const data = JSON.parse(document.getElementById('report-data').textContent);
const colors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#a16207', '#db2777', '#4b5563', '#65a30d'];
// Every run's windows, each once (runs may have their own faults, or a worker killed).
const windows = [...new Map(data.runs.flatMap((run) => run.faultWindows)
  .map((w) => [w.startMs + '-' + w.endMs + '-' + w.kind, w])).values()];
const shadeOf = (kind) => kind === 'worker killed' ? 'rgba(107, 114, 128, 0.2)'
  : kind === 'load trigger' ? 'rgba(234, 179, 8, 0.18)' : 'rgba(239, 68, 68, 0.14)';
const shadeFaults = {
  hooks: {
    drawClear: [(u) => {
      const ctx = u.ctx;
      ctx.save();
      for (const w of windows) {
        const x0 = u.valToPos(w.startMs / 1000, 'x', true);
        const x1 = u.valToPos(w.endMs / 1000, 'x', true);
        ctx.fillStyle = shadeOf(w.kind);
        ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
      }
      ctx.restore();
    }],
  },
};
function chart(id, title, unit, lines, yRange) {
  const present = lines.filter((line) => line.xs.length > 0);
  const box = document.getElementById(id);
  if (present.length === 0) { box.remove(); return; }
  const joined = uPlot.join(present.map((line) => [line.xs, line.ys]));
  new uPlot({
    title, width: 560, height: 260, plugins: [shadeFaults],
    scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
    axes: [{ label: 'seconds since the load started' }, { label: unit, size: 60 }],
    series: [{}, ...present.map((line) => ({ label: line.label, stroke: colors[line.index % colors.length], width: 2, spanGaps: false }))],
  }, joined, box);
}
const perBucket = (run, pick) => ({ label: run.name, index: data.runs.indexOf(run), xs: run.series.map((b) => b.startMs / 1000), ys: run.series.map(pick) });
const perSample = (run, pick) => ({ label: run.name, index: data.runs.indexOf(run), xs: run.samples.map((s) => s.atMs / 1000), ys: run.samples.map(pick) });
// A per-second rate from a counter sampled since the run began (the first sample has no rate).
const ratePerSample = (run, pick) => ({ label: run.name, index: data.runs.indexOf(run),
  xs: run.samples.slice(1).map((s) => s.atMs / 1000),
  ys: run.samples.slice(1).map((s, i) => {
    const prev = run.samples[i];
    const now = pick(s), then = pick(prev);
    return now === null || then === null || s.atMs === prev.atMs ? null : (now - then) / ((s.atMs - prev.atMs) / 1000);
  }) });
const bucketSeconds = (run) => run.series.length > 1 ? (run.series[1].startMs - run.series[0].startMs) / 1000 : 0.1;
chart('chart-p99', 'Latency p99 over time (rpc: from scheduled send; events: accepted)', 'ms', data.runs.map((r) => perBucket(r, (b) => b.p99Ms)));
chart('chart-p50', 'Latency p50 over time', 'ms', data.runs.map((r) => perBucket(r, (b) => b.p50Ms)));
chart('chart-ok', 'Throughput: answers ok per second (events: accepted)', 'per second', data.runs.map((r) => perBucket(r, (b) => b.ok / bucketSeconds(r))));
chart('chart-failed', 'Failed + dropped per second', 'per second', data.runs.map((r) => perBucket(r, (b) => (b.failed + b.dropped) / bucketSeconds(r))));
chart('chart-retries', 'Retries per second (gateway or worker)', 'per second', data.runs.map((r) => ratePerSample(r, (s) => s.retries)));
chart('chart-attempts', 'Calls sent to the downstream per second (retries included)', 'per second', data.runs.map((r) => ratePerSample(r, (s) => s.attempts)));
chart('chart-lag', 'Event-loop stall: longest of the caller and the downstream (CPU contention)', 'ms', data.runs.map((r) => perSample(r, (s) => s.loopLagMs)));
chart('chart-load', 'Downstream load factor: the highest between samples (above 1 it degrades)', 'load factor', data.runs.map((r) => perSample(r, (s) => s.peakLoadFactor ?? s.loadFactor)));
// Only when some run wasted work: otherwise a chart of zeros.
chart('chart-wasted', 'Wasted work: calls the downstream finished after their caller had gone, per second', 'per second', data.runs.some((r) => r.wastedWork > 0) ? data.runs.map((r) => ratePerSample(r, (s) => s.wastedWork ?? null)) : []);
chart('chart-breaker', 'Gateway breaker state (0 closed, 1 half-open, 2 open)', 'state', data.runs.filter((r) => r.target === 'rpc').map((r) => perSample(r, (s) => s.breakerState)), [0, 2.2]);
chart('chart-queue', 'Event queue depth (waiting + active + delayed)', 'jobs', data.runs.filter((r) => r.target === 'events').map((r) => perSample(r, (s) => s.queueDepth)));
`;

/** A self-contained report: works offline, the chart library and its CSS inlined. */
export function renderHtml(result: ExperimentResult): string {
  const rows = tableRows(result);
  const table = `<table><thead><tr>${rows[0]!.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(1)
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const thresholds = thresholdLines(result)
    .map(
      (line, i) =>
        `<li class="${result.thresholds[i]!.passed ? 'pass' : 'fail'}">${escapeHtml(line)}</li>`,
    )
    .join('');
  const warnings = result.runs
    .flatMap((run) =>
      run.warnings.map((warning) => `<li>${escapeHtml(run.name)}: ${escapeHtml(warning)}</li>`),
    )
    .join('');
  // `</` cannot appear inside the data script, or the browser would end it early.
  const json = JSON.stringify(result).replace(/<\//g, '<\\/');
  const charts = [
    'p99',
    'p50',
    'ok',
    'failed',
    'retries',
    'attempts',
    'load',
    'wasted',
    'breaker',
    'queue',
    'lag',
  ]
    .map((id) => `<div class="chart" id="chart-${id}"></div>`)
    .join('');
  const { scenario, environment } = result;
  return reportPage({
    title: `cascade-lab: ${scenario.name}`,
    style: `${asset('uPlot.min.css')}
th:nth-child(-n+2), td:nth-child(-n+2), th.text, td.text { text-align: left; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, 580px); gap: 12px; }
.pass { color: #15803d; } .fail { color: #b91c1c; }
.strips { display: grid; grid-template-columns: repeat(auto-fill, 580px); gap: 8px; }
tr.better td:last-child { color: #15803d; } tr.worse td:last-child { color: #b91c1c; } tr.none td:last-child { color: #555; }`,
    body: `<h1>${escapeHtml(scenario.name)}</h1>
<p>${escapeHtml(scenario.description ?? '')}</p>
<p class="note">Run ${escapeHtml(result.startedAt)} on ${escapeHtml(environment.platform)}, ${environment.cpus} CPUs, Node ${escapeHtml(environment.node)}.
Load: <code>${escapeHtml(loadText(result))}</code>. Shaded, for every run that has them: fault windows (red), load triggers (amber), a killed worker until its jobs are redelivered (grey).</p>
<div class="table">${table}</div>
<ul class="note">${notes(result)
      .map((line) => `<li>${escapeHtml(line)}</li>`)
      .join('')}</ul>
${thresholds ? `<ul>${thresholds}</ul>` : ''}
${warnings ? `<ul class="note">${warnings}</ul>` : ''}
${repeatsSection(result)}
${generatorsSection(result)}
<div class="charts">${charts}</div>
<script id="report-data" type="application/json">${json}</script>
<script>${asset('uPlot.iife.min.js')}</script>
<script>${clientScript}</script>`,
  });
}

/** Runs whose load came from several generators: each one's share and its own lateness, as it measured them. */
function generatorsSection(result: ExperimentResult): string {
  const runs = result.runs.filter((run) => run.generators);
  if (runs.length === 0) return '';
  const ms = (value: number | null) => (value === null ? '-' : String(value));
  const rows = runs
    .flatMap((run) =>
      run.generators!.map(
        (g) =>
          `<tr><td>${escapeHtml(run.name)}</td><td>${g.segment}</td><td>${g.sent}</td><td>${g.ok}</td><td>${g.failed}</td><td>${g.dropped}</td><td>${ms(g.pacingP99Ms)}</td><td>${ms(g.latenessP99Ms)}</td><td>${ms(g.burstSpreadP50Ms)}</td><td class="text">${escapeHtml(g.warnings.join('; '))}</td></tr>`,
      ),
    )
    .join('');
  return `<h2>Generators</h2>
<p class="note">Each generator sent one segment of the same schedule on one clock; the table above is their exact merge. Here each one as it measured itself (wall ms): if one fell behind, its own lateness says so.</p>
<div class="table"><table><thead><tr><th>run</th><th>segment</th><th>sent</th><th>ok</th><th>fail</th><th>dropped</th><th>own late p99 ms</th><th>until written p99 ms</th><th>burst spread p50 ms</th><th class="text">warnings</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** With repeats: each compared figure's repeats per run, and every comparison with its verdict. */
function repeatsSection(result: ExperimentResult): string {
  if (result.repeat < 2) return '';
  const method =
    result.runs[0]?.intervalMethod === 'min–max' ? 'min–max' : '95 % bootstrap interval';
  const strips = repeatFigures.map((figure) => repeatsChart(result.runs, figure)).join('');
  const rows = result.comparisons
    .map(
      (c) =>
        `<tr class="${c.verdict === 'better' || c.verdict === 'worse' ? c.verdict : 'none'}"><td>${escapeHtml(c.a)} vs ${escapeHtml(c.b)}</td><td>${c.field}</td><td>${signed(c.difference)}</td><td>${signed(c.interval[0])} to ${signed(c.interval[1])}</td><td>${escapeHtml(verdictText(c))}</td></tr>`,
    )
    .join('');
  return `<h2>Repeats and comparisons</h2>
<p class="note">${result.repeat} repeats per run, interleaved. Each dot is one repeat, the tick its median, the band the median's ${method}.</p>
<div class="strips">${strips}</div>
${
  rows
    ? `<div class="table"><table class="comparisons"><thead><tr><th>runs</th><th>figure</th><th>difference of medians</th><th>${method}</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : '<p class="note">No two runs share a target, so none is compared.</p>'
}`;
}
