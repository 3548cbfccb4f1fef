import { readFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { type NodeServer, startNodeServer } from '../load/stack/child-process.ts';
import { round as roundTo } from '../load/generator/stats.ts';

/** Compiled (`npm run bench` runs dist/bench/main.js): every part runs the code as it ships. */
const compiled = import.meta.url.endsWith('.js');
export const repoRoot = path.resolve(import.meta.dirname, compiled ? '../..' : '..');

/** A source file of the repository as this run executes it: itself, or its build under dist/. */
export const runnable = (file: string) =>
  compiled ? path.join(repoRoot, 'dist', file.replace(/\.ts$/, '.js')) : path.join(repoRoot, file);

/** The downstream answering at once and never failing: what is measured is the path, not the model. */
export const instantDownstream = {
  BASE_LATENCY_MS: '0',
  JITTER_MS: '0',
  FAIL_PROBABILITY: '0',
  CAPACITY_RPS: '1000000',
};

export type Server = NodeServer;

/** Starts an entry of the repository as its own process on a free port; it must log "Server listening at URL". */
export function spawnServer(
  file: string,
  env: Record<string, string> = {},
  args: string[] = [],
  nodeArgs: string[] = [],
): Promise<Server> {
  // Fastify logs "Server listening" at info; request logging is off in every server measured.
  return startNodeServer(runnable(file), {
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    args,
    nodeArgs,
    timeoutMs: 30_000,
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are at 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : Number.NaN;
}

export interface Throughput {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/** A closed-loop autocannon run of `POST path` with a JSON body. */
export async function hammer(
  url: string,
  options: { path: string; body: string; connections: number; durationS: number },
): Promise<Throughput> {
  const result = await autocannon({
    url: `${url}${options.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    connections: options.connections,
    duration: options.durationS,
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Median and the spread (min–max) of repeated measurements. */
export function summarize(values: number[]) {
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    runs: values.map((value) => round(value)),
  };
}

/** Bench figures keep three decimals unless told otherwise. */
export const round = (value: number, digits = 3): number => roundTo(value, digits);

export const log = (text: string) => process.stderr.write(`${text}\n`);
