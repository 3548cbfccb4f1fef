import type { RunSummary, ThresholdResult } from './result.ts';

/**
 * The figures a threshold can name, and where each is read from a run's summary;
 * `null` where the run's target has no such figure (a threshold on it fails).
 */
const metrics = {
  ok: (run) => run.ok,
  failed: (run) => run.failed,
  dropped: (run) => run.dropped,
  retries: (run) => run.retries,
  timeouts: (run) => run.timeouts,
  cb_open: (run) => (run.target === 'rpc' ? run.cbOpen : null),
  dlq: (run) => (run.target === 'events' ? run.dlq : null),
  lost: (run) => (run.target === 'events' ? run.lost : null),
  p50_ms: (run) => run.p50Ms,
  p95_ms: (run) => run.p95Ms,
  p99_ms: (run) => run.p99Ms,
  mean_ms: (run) => run.meanMs,
  amplification: (run) => run.amplification,
  goodput_rps: (run) => run.goodputRps,
} satisfies Record<string, (run: RunSummary) => number | null>;

export type ThresholdMetric = keyof typeof metrics;
export const thresholdMetrics = Object.keys(metrics) as ThresholdMetric[];

const operators = {
  '<=': (value: number, limit: number) => value <= limit,
  '>=': (value: number, limit: number) => value >= limit,
  '==': (value: number, limit: number) => value === limit,
  '<': (value: number, limit: number) => value < limit,
  '>': (value: number, limit: number) => value > limit,
};
type Operator = keyof typeof operators;

/** `run.metric op number`, as the scenario schema checks it. */
export const thresholdPattern = `^[a-z0-9][a-z0-9_-]*\\.(${thresholdMetrics.join('|')}) *(${Object.keys(operators).join('|')}) *-?[0-9.]+$`;
const thresholdRegExp = new RegExp(thresholdPattern);

export interface Threshold {
  run: string;
  metric: ThresholdMetric;
  operator: Operator;
  limit: number;
}

/** Parses `run.metric op number`; undefined when it does not have that shape. */
export function parseThreshold(expression: string): Threshold | undefined {
  const text = expression.trim();
  if (!thresholdRegExp.test(text)) return undefined;
  const [, run, metric, operator, limit] = /^(.+?)\.(\w+) *(<=|>=|==|<|>) *(\S+)$/.exec(text)!;
  const value = Number(limit);
  if (!Number.isFinite(value)) return undefined;
  return {
    run: run!,
    metric: metric as ThresholdMetric,
    operator: operator as Operator,
    limit: value,
  };
}

/** Evaluates each expression against the summaries; a missing run or value fails. */
export function evaluateThresholds(expressions: string[], runs: RunSummary[]): ThresholdResult[] {
  return expressions.map((expression) => {
    const threshold = parseThreshold(expression);
    const run = runs.find((candidate) => candidate.name === threshold?.run);
    const value = run && threshold ? metrics[threshold.metric](run) : null;
    if (value === null || !threshold) return { expression, value, passed: false };
    return { expression, value, passed: operators[threshold.operator](value, threshold.limit) };
  });
}
