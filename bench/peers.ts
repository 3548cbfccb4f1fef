/** The generator's peers that are not Node libraries, each run as its own process: wrk and hey. */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { cpuSeconds, repoRoot } from './lib.ts';

const run = promisify(execFile);

/** wrk at full speed (a closed loop, 64 connections, 5 s): its requests and the CPU it used. */
export async function wrkCpuPerRequest(
  wrk: string,
  url: string,
): Promise<{ requests: number; cpuS: number }> {
  const script = path.join(repoRoot, 'bench/baselines/post.lua');
  const child = spawn(wrk, ['-t1', '-c64', '-d5s', '-s', script, `${url}/rpc`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let cpu = 0;
  const sampler = setInterval(() => {
    try {
      cpu = cpuSeconds(child.pid!);
    } catch {
      /* exited */
    }
  }, 100);
  await new Promise((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  return { requests, cpuS: cpu };
}

/** `times`' second line, the shell's children: `0m0.840s 0m0.350s` (user, system). */
const childTimes = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/;

/**
 * hey at `rate` req/s for `durationMs`: 64 workers, each paced by its own ticker at a 64th of
 * the rate, so requests leave evenly, as an open loop's do (autocannon's `overallRate` lets
 * each connection send its second's quota back to back instead). Its CPU is read exactly
 * from the shell's `times` once it has exited; `sent` counts the 200s it got.
 */
export async function heyCpuPerRequest(
  hey: string,
  url: string,
  rate: number,
  durationMs: number,
): Promise<{ sent: number; cpuS: number }> {
  const workers = 64;
  const args = [
    ...['-c', String(workers), '-q', String(rate / workers)],
    ...['-n', String(Math.round((rate * durationMs) / 1000))],
    ...['-m', 'POST', '-T', 'application/json', '-d', '{"id":"bench"}', `${url}/rpc`],
  ];
  const { stdout } = await run('sh', ['-c', '"$0" "$@" && times', hey, ...args], {
    maxBuffer: 1 << 20,
  });
  const times = childTimes.exec(stdout);
  const sent = Number(/\[200\]\s+(\d+) responses/.exec(stdout)?.[1] ?? 0);
  if (!times || sent === 0) throw new Error(`hey: unexpected output:\n${stdout.slice(-500)}`);
  const cpuS = Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]);
  return { sent, cpuS };
}
