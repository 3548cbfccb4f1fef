import type { ExperimentResult } from '../experiment/result.ts';
import { bootstrapMinRepeats } from '../experiment/intervals.ts';
import { type Comparison } from '../experiment/result.ts';
import { hostShareLimits } from '../experiment/host-overhead.ts';
import { round } from '../generator/stats.ts';
import { parseThreshold } from '../scenario/thresholds.ts';
import { textTable } from './text-table.ts';
import { columns, fmt } from './columns.ts';

const fmtInterval = (title: string, [low, high]: [number, number]) =>
  title === 'amplif.' ? `${low.toFixed(2)}–${high.toFixed(2)}` : `${fmt(low)}–${fmt(high)}`;

/** A row per run, and under a repeated run a row of its intervals (`95 %` or `min–max`). */
export function tableRows(result: ExperimentResult): string[][] {
  const rows = [columns.map(({ title }) => title)];
  for (const run of result.runs) {
    rows.push(columns.map(({ cell }) => cell(run)));
    const { intervals } = run;
    if (!intervals) continue;
    rows.push(
      columns.map(({ title, field }, index) => {
        if (index === 0) return run.intervalMethod === 'min–max' ? '  min–max' : '  95 %';
        const range = field ? intervals[field] : undefined;
        const rpcOnly = field === 'cbOpen' || field === 'breakerOpenMs';
        if (!range || (rpcOnly && run.target !== 'rpc')) return '';
        return field === 'overloadedShare'
          ? `${(range[0] * 100).toFixed(0)}–${(range[1] * 100).toFixed(0)}`
          : fmtInterval(title, range);
      }),
    );
  }
  return rows;
}

/** The comparison as a plain-text table for the terminal. */
export function formatTable(result: ExperimentResult): string {
  return `${textTable(tableRows(result), 2)}\n`;
}

/** What the table's figures are: the time scale, the repeats, the host-shaped runs, the comparisons. */
export function notes(result: ExperimentResult): string[] {
  const k = result.timeScale;
  const lines = [
    k === 1
      ? 'time scale 1: the scenario ran at its own time constants (max lag is the host’s, in wall time).'
      : `time scale ${k}: every time constant ran ×${k}; durations, latencies and rates are in model time (wall ÷ ${k}); max lag is the host’s, in wall time.`,
  ];
  if (result.timeScaleChoice)
    lines.push(`time scale chosen by auto: ${result.timeScaleChoice.reason}.`);
  if (result.repeat > 1)
    lines.push(
      `${result.repeat} repeats per run, interleaved (repeat i with seed + i): figures are medians; under each run its ${result.runs[0]?.intervalMethod === 'min–max' ? 'min–max (fewer than 5 repeats)' : '95 % bootstrap interval of the median'}.`,
    );
  for (const run of result.runs.filter((candidate) => candidate.generators))
    lines.push(
      `${run.name}: load from ${run.generators!.length} generators, each a segment of one schedule on one clock, merged exactly (counts summed, latency histograms added); each generator's own lateness p99: ${run.generators!.map((g) => `${g.segment} ${fmt(g.pacingP99Ms)} ms`).join(', ')} (wall time).`,
    );
  for (const run of result.runs.filter((candidate) => candidate.hostShaped))
    lines.push(
      `* ${run.name} is host-shaped: the host added ${fmt(run.hostOverheadP50Ms)} ms per call at p50 and ${fmt(run.hostOverheadP99Ms)} ms at p99 (model time), past ${hostShareLimits.p50OfBaseLatency * 100} % of the base latency or ${hostShareLimits.p99OfTimeout * 100} % of the per-attempt timeout${run.suggestedTimeScale ? `; try --time-scale ${run.suggestedTimeScale}` : ''}.`,
    );
  return lines;
}

export const signed = (value: number) => `${value >= 0 ? '+' : '−'}${fmt(Math.abs(value))}`;

/** A comparison's verdict as a reader takes it: for its first run, or why there is none. */
export const verdictText = (c: Comparison) =>
  c.verdict === 'too few repeats'
    ? `no verdict below ${bootstrapMinRepeats} repeats`
    : c.verdict === 'no detectable difference'
      ? 'no detectable difference'
      : `${c.a} ${c.verdict}`;

/** A comparison: the difference of medians, its interval, the verdict. */
export const comparisonLine = (c: Comparison) =>
  `${c.a} vs ${c.b}: ${c.field} ${signed(c.difference)} [${signed(c.interval[0])}, ${signed(c.interval[1])}] → ${verdictText(c)}`;

/** With repeats, one line per comparison: the difference of medians, its interval, the verdict. */
export function comparisonLines(result: ExperimentResult): string[] {
  if (result.repeat < 2) return [];
  return result.comparisons.map(comparisonLine);
}

export function formatNotes(result: ExperimentResult): string {
  return `${[...notes(result), ...comparisonLines(result)].join('\n')}\n`;
}

/** One line per threshold: passed or not, the value, and for two runs the interval or why there is none. */
export function thresholdLines(result: ExperimentResult): string[] {
  return result.thresholds.map((threshold) => {
    const twoRuns = parseThreshold(threshold.expression)?.other !== undefined;
    const interval = threshold.interval
      ? `, interval of the difference ${fmt(threshold.interval[0])} to ${fmt(threshold.interval[1])}`
      : '';
    const tooFew =
      twoRuns && result.repeat < bootstrapMinRepeats
        ? `; ${result.repeat} repeat${result.repeat === 1 ? '' : 's'} cannot show a difference at 95 %: use --repeat ${bootstrapMinRepeats}`
        : '';
    return `${threshold.passed ? '✓' : '✗'} ${threshold.expression} (got ${threshold.value === null ? 'no value' : round(threshold.value, 3)}${interval}${tooFew})`;
  });
}

export function formatThresholds(result: ExperimentResult): string {
  return thresholdLines(result).join('\n');
}

/** The run's load as the report states it: its schedule, or `unknown` (a merge of parts without one). */
export const loadText = (result: ExperimentResult) =>
  result.scenario.load === 'unknown' ? 'unknown' : JSON.stringify(result.scenario.load);
