import { createHash } from 'node:crypto';
import { windowsOf } from '../experiment/run-actions.ts';
import { type Run } from '../scenario/runs.ts';
import { type Scenario } from '../scenario/shape.ts';
import { scenarioProblems } from '../scenario/problems.ts';
import { scheduleDurationMs, spikeTrigger } from '../schedule/schedule.ts';
import {
  maxCells,
  type SweepField,
  type SweepValue,
  valuesOf,
  type VerdictRule,
} from '../scenario/sweep-spec.ts';

type Segment = string | number;

/** `runs[0].policy.maxRetries` → ['runs', 0, 'policy', 'maxRetries']. */
export function parsePath(path: string): Segment[] {
  return [...path.matchAll(/([A-Za-z][A-Za-z0-9_]*)|\[([0-9]+)\]/g)].map((match) =>
    match[2] === undefined ? match[1]! : Number(match[2]),
  );
}

/**
 * `value` with the field at `path` set (a deep copy; missing objects on the way are made,
 * array elements are not). Hand-written: lodash's `set` would make the array elements too,
 * and a path into a run that does not exist must be an error, not a new run.
 */
export function setPath<T>(value: T, path: string, field: SweepValue): T {
  const copy = structuredClone(value) as unknown;
  const segments = parsePath(path);
  let node = copy as Record<string | number, unknown>;
  let at = '';
  for (const [index, segment] of segments.entries()) {
    const name =
      typeof segment === 'number' ? `${at}[${segment}]` : at ? `${at}.${segment}` : segment;
    if (typeof segment === 'number' && !Array.isArray(node))
      throw new Error(`${path}: ${at} is not a list`);
    if (typeof segment === 'string' && (Array.isArray(node) || typeof node !== 'object'))
      throw new Error(`${path}: ${at} is not an object`);
    if (index === segments.length - 1) {
      node[segment] = field;
      break;
    }
    if (typeof segment === 'number' && segment >= (node as unknown as unknown[]).length)
      throw new Error(
        `${path}: ${at} has ${(node as unknown as unknown[]).length} elements, not ${segment + 1}`,
      );
    if (node[segment] === undefined || node[segment] === null) {
      if (typeof segments[index + 1] === 'number')
        throw new Error(`${path}: ${name} is not set, so it has no elements`);
      node[segment] = {};
    }
    node = node[segment] as Record<string | number, unknown>;
    at = name;
  }
  return copy as T;
}

/** One cell of the grid: a value of each swept field, and the scenario it makes. */
export interface Cell {
  /** Its place: `[column]` or `[column, row]`, in the order of the fields' values. */
  index: number[];
  values: Array<{ path: string; value: SweepValue }>;
  scenario: Scenario;
  /** Folder name in the sweep's output: readable values and a hash of everything that ran. */
  id: string;
}

export const cellLabel = (cell: Pick<Cell, 'values'>) =>
  cell.values.map(({ path, value }) => `${path}=${String(value)}`).join(', ');

/** The windows the verdict is judged after, of one run of a scenario (model time). */
function triggerEndMs(scenario: Scenario, run: Run): number | undefined {
  const trigger = scenario.trigger ?? spikeTrigger(scenario.load);
  const windows = windowsOf({
    // A run straight at a service goes through no proxy: no fault reaches it.
    faults: run.target === 'http' ? [] : (run.faults ?? scenario.faults ?? []),
    ...(trigger ? { trigger } : {}),
    ...(run.target === 'events' && run.killWorker
      ? { killWorker: { at: run.killWorker.at, index: 0 } }
      : {}),
  });
  return windows.length === 0 ? undefined : Math.max(...windows.map((window) => window.endMs));
}

/** What a cell's scenario needs for its verdict: time after the trigger to see a recovery held. */
function observationProblems(scenario: Scenario, rule: VerdictRule): string[] {
  const loadEnd = scheduleDurationMs(scenario.load);
  const needed = rule.windowMs + rule.holdMs + rule.settleMs;
  return scenario.runs.flatMap((run) => {
    const end = triggerEndMs(scenario, run);
    return end !== undefined && loadEnd - end < needed
      ? [
          `runs[${scenario.runs.indexOf(run)}] (${run.name}): the load ends ${Math.round(loadEnd - end)} ms after the trigger or last fault; the verdict needs ${needed} ms (verdict windowMs + holdMs + settleMs) to see a recovery held`,
        ]
      : [];
  });
}

const slug = (value: SweepValue) =>
  String(value)
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .slice(0, 24);

/**
 * Every cell of the sweep, the first field's values varying fastest; or every problem,
 * each once with the cells it is found in. Each cell's scenario is the base scenario
 * with its values set, without `thresholds` (a sweep maps; it does not pass or fail) and of
 * `sweep` only the verdict's rule (so each cell's own report judges recovery as the map does),
 * and is validated as any scenario is.
 */
export function expandGrid(
  base: Scenario,
  fields: SweepField[],
  rule: VerdictRule,
  hashOf: (scenario: Scenario) => string = contentHash,
): { cells: Cell[]; problems: string[] } {
  const axes = fields.map(valuesOf);
  const count = axes.reduce((product, values) => product * values.length, 1);
  if (count > maxCells)
    return { cells: [], problems: [`sweep: ${count} cells; at most ${maxCells}`] };
  const plain: Scenario = structuredClone(base);
  delete plain.sweep;
  delete plain.thresholds;
  if (base.sweep?.verdict) plain.sweep = { fields: base.sweep.fields, verdict: base.sweep.verdict };
  const cells: Cell[] = [];
  const found = new Map<string, string[]>();
  for (let n = 0; n < count; n += 1) {
    const index = axes.map((_, axis) => {
      const stride = axes.slice(0, axis).reduce((product, values) => product * values.length, 1);
      return Math.floor(n / stride) % axes[axis]!.length;
    });
    const values = fields.map((field, axis) => ({
      path: field.path,
      value: axes[axis]![index[axis]!]!,
    }));
    const label = cellLabel({ values });
    let scenario = plain;
    const problems: string[] = [];
    try {
      for (const { path, value } of values) scenario = setPath(scenario, path, value);
      problems.push(...scenarioProblems(scenario));
      if (problems.length === 0) problems.push(...observationProblems(scenario, rule));
    } catch (error) {
      problems.push((error as Error).message);
    }
    for (const problem of problems) found.set(problem, [...(found.get(problem) ?? []), label]);
    cells.push({
      index,
      values,
      scenario,
      id: `${values
        .map(
          ({ path, value }) =>
            `${path
              .split(/[.[\]]+/)
              .filter(Boolean)
              .at(-1)}-${slug(value)}`,
        )
        .join('_')}-${hashOf(scenario)}`,
    });
  }
  const problems = [...found.entries()].map(([problem, labels]) =>
    labels.length === count && count > 1
      ? `${problem} (in every cell)`
      : `${problem} (in ${labels.length === 1 ? 'cell' : 'cells'} ${labels.join('; ')})`,
  );
  return { cells: problems.length > 0 ? [] : cells, problems };
}

/** 8 hex digits of a hash of what a cell runs: the same cell in another sweep is found again. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}
