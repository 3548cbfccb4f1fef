/**
 * A scenario's thresholds as written: `run.metric op number`, or `run.metric op run.metric`
 * (two runs compared). Which figures a threshold can name is said here, once; how each is
 * read from a run's summary is experiment/thresholds.ts, which must cover every one.
 */
export const thresholdMetrics = [
  'ok',
  'failed',
  'dropped',
  'retries',
  'timeouts',
  'cb_open',
  'dlq',
  'lost',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'mean_ms',
  'attempts',
  'dup_effects',
  'wasted_work',
  'conflicts',
  'max_ms',
  'amplification',
  'goodput_rps',
  'duration_s',
  'recovery_ms',
] as const;

export type ThresholdMetric = (typeof thresholdMetrics)[number];

export const operators = {
  '<=': (value: number, limit: number) => value <= limit,
  '>=': (value: number, limit: number) => value >= limit,
  '==': (value: number, limit: number) => value === limit,
  '<': (value: number, limit: number) => value < limit,
  '>': (value: number, limit: number) => value > limit,
};
export type Operator = keyof typeof operators;

const runName = '[a-z0-9][a-z0-9_-]*';
const metricName = `(${thresholdMetrics.join('|')})`;
const operator = `(${Object.keys(operators).join('|')})`;
/** `run.metric op number`, or `run.metric op run.metric` (two runs compared), as the scenario schema checks it. */
export const thresholdPattern = `^${runName}\\.${metricName} *${operator} *(-?[0-9.]+|${runName}\\.${metricName})$`;
const thresholdRegExp = new RegExp(thresholdPattern);

export type Threshold = {
  run: string;
  metric: ThresholdMetric;
  operator: Operator;
} & ({ limit: number; other?: undefined } | { other: { run: string; metric: ThresholdMetric } });

/** Parses a threshold; undefined when it does not have either shape. */
export function parseThreshold(expression: string): Threshold | undefined {
  const text = expression.trim();
  if (!thresholdRegExp.test(text)) return undefined;
  const [, run, metric, op, right] = /^(.+?)\.(\w+) *(<=|>=|==|<|>) *(\S+)$/.exec(text)!;
  const base = { run: run!, metric: metric as ThresholdMetric, operator: op as Operator };
  const other = /^(.+)\.(\w+)$/.exec(right!);
  if (other && !/^-?[0-9.]+$/.test(right!))
    return { ...base, other: { run: other[1]!, metric: other[2] as ThresholdMetric } };
  const limit = Number(right);
  return Number.isFinite(limit) ? { ...base, limit } : undefined;
}
