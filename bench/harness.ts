import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { loaderArgs } from '../load/stack/child-process.ts';
import { repoRoot, round, runnable } from './lib.ts';
import { memoryChart } from './svg-chart.ts';

/** One line of the results table. */
export interface Row {
  what: string;
  ours: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | null;
}

/** What a benchmark part measured: its table rows and every round's figures. */
export interface PartResult {
  rows: Row[];
  details: Record<string, unknown>;
}

/** Runs `fns` in a rotated order each round, so neither side always goes first. */
export async function alternate<T>(rounds: number, fns: Array<() => Promise<T>>): Promise<T[][]> {
  const results: T[][] = fns.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (let k = 0; k < fns.length; k += 1) {
      const index = (k + round) % fns.length;
      results[index]!.push(await fns[index]!());
    }
  }
  return results;
}

const run = promisify(execFile);

/** Runs a script of the repository as its own process; it prints one JSON line when done. */
export async function jsonChild(file: string, args: string[]): Promise<Record<string, number>> {
  const entry = runnable(file);
  const { stdout } = await run(process.execPath, [...loaderArgs(entry), entry, ...args], {
    cwd: repoRoot,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

export const machineDescription = () =>
  `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${round(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}`;

export function formatTable(rows: Row[]): string {
  return [
    '| what | ours | baseline | ratio | target | met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.what} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}

/** Writes bench/results/<day>.json, .md and (with a memory part) -memory.svg; answers what it wrote. */
export async function writeResults(
  started: Date,
  rounds: number,
  result: PartResult,
  /** The parts run when not all: in the file names, so a partial run keeps the day's full one. */
  parts?: string[],
): Promise<{ table: string; files: string[] }> {
  const machine = machineDescription();
  const table = formatTable(result.rows);
  const date = started.toISOString().slice(0, 10);
  const day = `${date}${parts ? `-${parts.join('-')}` : ''}`;
  const dir = path.join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  // Written in the repository's own format, so the results can be committed as they are.
  const write = async (file: string, text: string) => {
    const options = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(text, { ...options, filepath: file }));
  };
  const files = [path.join(dir, `${day}.json`), path.join(dir, `${day}.md`)];
  await write(
    files[0]!,
    JSON.stringify({
      startedAt: started.toISOString(),
      machine,
      rounds,
      rows: result.rows,
      details: result.details,
    }),
  );
  await write(
    files[1]!,
    `# cascade-lab benchmarks, ${date}${parts ? ` (${parts.join(', ')})` : ''}\n\n${machine}; ${rounds} rounds per pair, medians (ratios are medians of per-round ratios).\n\n${table}\n`,
  );
  const memory = result.details.memory as { curve: Parameters<typeof memoryChart>[0] } | undefined;
  if (memory) {
    files.push(path.join(dir, `${day}-memory.svg`));
    writeFileSync(files[2]!, memoryChart(memory.curve));
  }
  return { table: `${machine}\n\n${table}`, files };
}
