/**
 * `npm run bench [-- part …]`: cascade-lab's own overhead against the leanest thing that
 * does the same job, on this machine, in one run. Pairs run back to back in alternating
 * order, five rounds each (`BENCH_ROUNDS`); the table reports medians, spread and ratios.
 * Parts: gateway (hop + metrics), breaker, generator, events, replica-wait, proxy, memory. Results go to
 * bench/results/<date>[-<parts>].{json,md}. All traffic goes to 127.0.0.1 and every run is bounded in time.
 */
import { breakerCost } from './parts/breaker.ts';
import { eventPath } from './parts/event-path.ts';
import { gatewayHop } from './parts/gateway-hop.ts';
import { generator } from './parts/generator.ts';
import { memory } from './parts/memory.ts';
import { proxyCost } from './parts/proxy.ts';
import { replicaWait } from './parts/replica-wait.ts';
import { type PartResult, writeResults } from './harness.ts';
import { log, round } from './lib.ts';
import { ensurePeers, type Peers } from './setup.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(
    `BENCH_ROUNDS: must be a positive integer, got "${process.env.BENCH_ROUNDS}"\n`,
  );
  process.exit(2);
}
const parts: Record<string, (peers: Peers) => Promise<PartResult>> = {
  gateway: () => gatewayHop(rounds),
  breaker: () => breakerCost(rounds),
  generator: (peers) => generator(rounds, peers),
  events: () => eventPath(rounds),
  'replica-wait': () => replicaWait(rounds),
  proxy: () => proxyCost(rounds),
  memory: () => memory(),
};
const asked = process.argv.slice(2);
const unknown = asked.filter((arg) => !(arg in parts));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown part(s): ${unknown.join(', ')}; parts: ${Object.keys(parts).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = asked.length > 0 ? asked : Object.keys(parts);
const peers: Peers = chosen.includes('generator')
  ? await ensurePeers()
  : { wrk: undefined, hey: undefined };
const started = new Date();
const total: PartResult = { rows: [], details: {} };
for (const name of chosen) {
  const t = performance.now();
  const result = await parts[name]!(peers);
  total.rows.push(...result.rows);
  Object.assign(total.details, result.details);
  log(`${name} done in ${round((performance.now() - t) / 1000, 1)} s`);
}
const { table, files } = await writeResults(
  started,
  rounds,
  total,
  asked.length > 0 ? chosen : undefined,
);
process.stdout.write(`${table}\n\nwritten: ${files.join(', ')}\n`);
