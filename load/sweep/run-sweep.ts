import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { ExperimentResult, RunSummary } from '../experiment/result.ts';
import { type ExperimentOptions, runExperiment } from '../experiment/run-experiment.ts';
import { writeSummary } from '../report/write.ts';
import { type Run, rowNames } from '../scenario/runs.ts';
import { type Scenario } from '../scenario/shape.ts';
import { scheduleDurationMs } from '../schedule/schedule.ts';
import { type Cell, contentHash, expandGrid } from './grid.ts';
import {
  defaultVerdictRule,
  type SweepField,
  type SweepValue,
  valuesOf,
  type VerdictRule,
} from '../scenario/sweep-spec.ts';
import { combineRecoveries, judgeRecovery, type Recovery } from '../experiment/recovery.ts';
import { ProblemsError } from '../../services/shared/problems.ts';

/**
 * Where a sweep's runs ran. A fresh stack per run, as `experiment` does: a run that ends
 * metastable leaves the downstream thousands of calls deep, and the next run on the same
 * stack would start inside that state (measured: every cell after the first was judged
 * overloaded).
 */
export type StackMode = 'a fresh local stack per run' | 'a running stack (--urls)';

/** One run (a row) of one cell: its verdict and its figures, medians over the repeats. */
export interface CellRun {
  name: string;
  target: RunSummary['target'];
  verdict: Recovery['verdict'];
  /** recovered: model ms after the trigger's end. */
  recoveryMs: number | null;
  counts: NonNullable<Recovery['counts']>;
  goodputRps: number;
  /** Null for a run straight at another service: nothing counted its calls. */
  amplification: number | null;
  p99Ms: number | null;
  failed: number;
  /** The host's share of a downstream call, p99 (model time), and whether it shaped the run. */
  hostOverheadP99Ms: number | null;
  hostShaped: boolean;
  /** Each repeat: its own figures and verdict. */
  repeats: Array<
    Pick<
      RunSummary,
      'sent' | 'ok' | 'failed' | 'dropped' | 'goodputRps' | 'amplification' | 'p99Ms'
    > &
      Recovery
  >;
}

export interface CellResult {
  id: string;
  index: number[];
  values: Array<{ path: string; value: SweepValue }>;
  /** Run by an earlier invocation of this sweep, and kept. */
  resumed: boolean;
  /** How long the cell took to run (wall time). */
  wallMs: number;
  /** The cell's own experiment report, relative to the sweep's folder. */
  report: string;
  runs: CellRun[];
  warnings: string[];
}

export interface SweepResult {
  scenario: Scenario;
  fields: Array<{ path: string; values: SweepValue[] }>;
  rule: VerdictRule;
  /** Every time constant ran × timeScale; every figure is in model time. */
  timeScale: number;
  repeat: number;
  stack: StackMode;
  startedAt: string;
  environment: { node: string; platform: string; cpus: number };
  /** The rows of each cell, in order: the runs, or a topic run's subscribers. */
  runs: string[];
  /** Every cell, in grid order; those not run yet are missing while it runs. */
  cells: CellResult[];
  /** How many cells the grid has. */
  cellCount: number;
}

/** A sweep that cannot run: every problem, one line each. */
export class SweepError extends ProblemsError {}

/** What the progress line shows, at the start of each run of each cell. */
export interface SweepProgress {
  cell: Cell;
  /** 1-based place of the cell in the grid, and the grid's size. */
  position: number;
  total: number;
  /** Cells finished, earlier invocations' included. */
  done: number;
  run: Run;
  repeat: number;
  repeats: number;
  /** Wall time this invocation has run, and the estimate of what is left. */
  elapsedMs: number;
  leftMs: number;
}

export interface SweepOptions extends Omit<ExperimentOptions, 'onRunStart' | 'timeScale'> {
  /** The folder cells and reports are written to; finished cells in it are not run again. */
  outDir: string;
  /** Instead of the scenario's `sweep.fields`. */
  fields?: SweepField[] | undefined;
  timeScale?: number | undefined;
  onSweepProgress?: (progress: SweepProgress) => void;
  /** After each cell: the sweep so far (e.g. to write its report). */
  onCellDone?: (result: SweepResult) => void;
}

/**
 * Runs the scenario once per cell of its grid (every run, with its repeats), writing each
 * cell's experiment to `<out>/cells/<id>/` and `cell.json` last: a cell with its
 * `cell.json` is done, and a sweep run again with the same folder skips it.
 */
export async function runSweep(scenario: Scenario, options: SweepOptions): Promise<SweepResult> {
  const sweep = scenario.sweep;
  const fields = options.fields ?? sweep?.fields;
  if (!fields || fields.length === 0)
    throw new SweepError([
      `${scenario.name}: nothing to sweep: add sweep.fields to the scenario, or pass --field PATH=VALUES`,
    ]);
  const rule: VerdictRule = { ...defaultVerdictRule, ...sweep?.verdict };
  const asked = options.timeScale ?? scenario.timeScale ?? 1;
  if (asked === 'auto')
    throw new SweepError([
      'timeScale: auto would probe scales in every cell; run `cascade-lab experiment --time-scale auto` on one cell and give the scale it picks (--time-scale K)',
    ]);
  const timeScale = asked;
  const repeat = options.repeat ?? scenario.repeat ?? 1;
  const stack: StackMode = options.urls
    ? 'a running stack (--urls)'
    : 'a fresh local stack per run';
  const { cells, problems } = expandGrid(scenario, fields, rule, (cellScenario) =>
    contentHash({ scenario: cellScenario, timeScale, repeat, stack }),
  );
  if (problems.length > 0) throw new SweepError(problems);

  options.onNote?.(
    `sweep ${scenario.name}: ${cells.length} cells × ${scenario.runs.length} runs × ${repeat} repeat${repeat === 1 ? '' : 's'}, at time scale ${timeScale}; cells and reports in ${options.outDir} (stopped, the same command with this --out resumes)\n`,
  );
  const cellsDir = path.join(options.outDir, 'cells');
  mkdirSync(cellsDir, { recursive: true });
  const isDone = (cell: Cell) => existsSync(path.join(cellsDir, cell.id, 'cell.json'));
  const result: SweepResult = {
    scenario,
    fields: fields.map((field) => ({ path: field.path, values: valuesOf(field) })),
    rule,
    timeScale,
    repeat,
    stack,
    startedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: availableParallelism(),
    },
    runs: scenario.runs.flatMap(rowNames),
    cells: [],
    cellCount: cells.length,
  };
  const toRun = cells.filter((cell) => !isDone(cell));
  if (toRun.length < cells.length)
    options.onNote?.(
      `${cells.length - toRun.length} of ${cells.length} cells are already done in ${options.outDir}: they are kept, not run again\n`,
    );

  // The estimate before any run has finished: the load at this scale and ~4 s around it.
  const runsPerCell = scenario.runs.length * repeat;
  const firstGuessMs = scheduleDurationMs(scenario.load) * timeScale + 4000;
  const started = performance.now();
  let runsStarted = 0;
  let doneCount = cells.length - toRun.length;

  for (const cell of cells) {
    const position = cells.indexOf(cell) + 1;
    const dir = path.join(cellsDir, cell.id);
    if (isDone(cell)) {
      result.cells.push(readCell(cell, dir, rule));
      continue;
    }
    const cellStarted = performance.now();
    const experiment = await runExperiment(cell.scenario, {
      ...options,
      // StackMode above: a metastable cell must not leave its state to the next run.
      freshStacks: true,
      timeScale,
      repeat,
      onRunStart: (run, _index, i) => {
        // Runs started before this one have finished: their mean time is the estimate.
        const elapsedMs = performance.now() - started;
        const perRun = runsStarted === 0 ? firstGuessMs : elapsedMs / runsStarted;
        const left = toRun.length * runsPerCell - runsStarted;
        runsStarted += 1;
        options.onSweepProgress?.({
          cell,
          position,
          total: cells.length,
          done: doneCount,
          run,
          repeat: i,
          repeats: repeat,
          elapsedMs,
          leftMs: left * perRun,
        });
      },
    });
    writeSummary(experiment, dir);
    const marker = {
      id: cell.id,
      values: cell.values,
      wallMs: Math.round(performance.now() - cellStarted),
      finishedAt: new Date().toISOString(),
    };
    // Written last, and whole (a rename): a cell stopped half-way has no marker.
    writeFileSync(path.join(dir, 'cell.json.tmp'), `${JSON.stringify(marker, null, 2)}\n`);
    renameSync(path.join(dir, 'cell.json.tmp'), path.join(dir, 'cell.json'));
    result.cells.push(
      cellResult(cell, experiment, rule, { resumed: false, wallMs: marker.wallMs }),
    );
    doneCount += 1;
    options.onCellDone?.(result);
  }
  return result;
}

/** A cell done by an earlier invocation: its experiment read back and judged again (the rule may have changed). */
function readCell(cell: Cell, dir: string, rule: VerdictRule): CellResult {
  const experiment = JSON.parse(
    readFileSync(path.join(dir, 'summary.json'), 'utf8'),
  ) as ExperimentResult;
  const marker = JSON.parse(readFileSync(path.join(dir, 'cell.json'), 'utf8')) as {
    wallMs: number;
  };
  return cellResult(cell, experiment, rule, { resumed: true, wallMs: marker.wallMs });
}

/** Pure: a cell's experiment as the sweep reports it, each row judged by the rule. */
export function cellResult(
  cell: Pick<Cell, 'id' | 'index' | 'values'>,
  experiment: ExperimentResult,
  rule: VerdictRule,
  how: { resumed: boolean; wallMs: number },
): CellResult {
  const runs = experiment.runs.map((run): CellRun => {
    const repeats = (run.repeats ?? [run]).map((one) => ({
      sent: one.sent,
      ok: one.ok,
      failed: one.failed,
      dropped: one.dropped,
      goodputRps: one.goodputRps,
      amplification: one.amplification,
      p99Ms: one.p99Ms,
      // The one verdict, on the repeat's series in model time (the rule in model time too).
      ...judgeRecovery(one.series, one.faultWindows, rule),
    }));
    const verdict = combineRecoveries(repeats);
    return {
      name: run.name,
      target: run.target,
      verdict: verdict.verdict,
      recoveryMs: verdict.recoveryMs,
      counts: verdict.counts ?? {},
      goodputRps: run.goodputRps,
      amplification: run.amplification,
      p99Ms: run.p99Ms,
      failed: run.failed,
      hostOverheadP99Ms: run.hostOverheadP99Ms,
      hostShaped: run.hostShaped,
      repeats,
    };
  });
  return {
    id: cell.id,
    index: cell.index,
    values: cell.values,
    ...how,
    report: path.posix.join('cells', cell.id, 'report.html'),
    runs,
    warnings: experiment.runs.flatMap((run) =>
      run.warnings.map((warning) => `${run.name}: ${warning}`),
    ),
  };
}
