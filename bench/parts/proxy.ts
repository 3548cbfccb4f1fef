/**
 * Proxy mode's cost (no faults): the same requests to an upstream directly and through the
 * downstream in proxy mode, in alternating rounds. Against the cheapest server there is
 * (bench/baselines/echo.ts, no work), the hop is all there is to measure, so the leanest
 * Node proxy (bench/baselines/forwarder.ts: a Fastify route relaying through an undici Pool)
 * is measured too; against an upstream that takes 5 ms, as a fast real service does, the
 * ratios say what a user's calls pay.
 */
import { runLoad } from '../../load/generator/generator.ts';
import { constant } from '../../load/schedule/schedule.ts';
import { alternate, type PartResult, type Row } from '../harness.ts';
import { hammer, log, median, round, type Server, spawnServer, summarize } from '../lib.ts';

const shotS = 3;
const body = JSON.stringify({ id: 'bench' });
const throughput = (server: Server) => () =>
  hammer(server.url, { path: '/rpc', body, connections: 32, durationS: shotS });
/** 1 000 requests/s for 3 s, open loop: what a caller waits. */
const latency = (server: Server) => async () => {
  const result = await runLoad({
    target: 'rpc',
    baseUrl: server.url,
    offsetsMs: constant(1000, 3000),
  });
  return { p50Ms: result.latency.p50Ms!, p99Ms: result.latency.p99Ms!, failed: result.failed };
};
const ratio = (a: number[], b: number[]) => round(median(a.map((value, i) => value / b[i]!)), 2);

export async function proxyCost(rounds: number): Promise<PartResult> {
  log('proxy: upstreams directly vs through the downstream in proxy mode (no faults)');
  const servers: Server[] = [];
  const start = async (file: string, env: Record<string, string> = {}, args: string[] = []) => {
    const server = await spawnServer(file, env, args);
    servers.push(server);
    return server;
  };
  try {
    const rows: Row[] = [];
    const details: Record<string, unknown> = {};
    for (const delayMs of [0, 5]) {
      const upstream = await start('bench/baselines/echo.ts', {}, [String(delayMs)]);
      const proxy = await start('services/downstream/main.ts', { UPSTREAM_URL: upstream.url });
      const upstreamName =
        delayMs === 0 ? 'an upstream doing no work' : `an upstream taking ${delayMs} ms`;
      for (const server of [upstream, proxy]) await throughput(server)();
      const [proxiedT, directT] = await alternate(rounds, [
        throughput(proxy),
        throughput(upstream),
      ]);
      const [proxiedL, directL] = await alternate(rounds, [latency(proxy), latency(upstream)]);
      if ([...proxiedT!, ...directT!].some((r) => r.errors > 0 || r.non2xx > 0))
        log('warning: errors or non-2xx answers in the throughput shots');
      const rps = { ours: proxiedT!.map((r) => r.rps), base: directT!.map((r) => r.rps) };
      const throughputRatio = ratio(rps.ours, rps.base);
      rows.push({
        what: `proxy, ${upstreamName}: throughput (req/s, 32 connections; baseline: the upstream directly)`,
        ours: `${summarize(rps.ours).median}`,
        baseline: `${summarize(rps.base).median}`,
        ratio: `${throughputRatio}×`,
        target: '≥ 0.8×',
        met: throughputRatio >= 0.8,
      });
      for (const field of ['p50Ms', 'p99Ms'] as const) {
        const ours = proxiedL!.map((r) => r[field]);
        const base = directL!.map((r) => r[field]);
        const latencyRatio = ratio(ours, base);
        rows.push({
          what: `proxy, ${upstreamName}: ${field.slice(0, 3)} at 1 000 req/s open loop (ms; baseline: directly)`,
          ours: `${round(median(ours), 2)}`,
          baseline: `${round(median(base), 2)}`,
          ratio: `${latencyRatio}×`,
          target: '≤ 1.2×',
          met: latencyRatio <= 1.2,
        });
      }
      details[`proxy${delayMs}ms`] = {
        throughput: { proxied: proxiedT, direct: directT },
        latency: { proxied: proxiedL, direct: directL },
      };
      if (delayMs === 0) {
        // What any Node proxy pays for the hop: the leanest one, on the same upstream.
        const forwarder = await start('bench/baselines/forwarder.ts', {}, [upstream.url]);
        await throughput(forwarder)();
        const [oursF, lean] = await alternate(rounds, [throughput(proxy), throughput(forwarder)]);
        const ours = oursF!.map((r) => r.rps);
        const base = lean!.map((r) => r.rps);
        rows.push({
          what: 'proxy, an upstream doing no work: throughput (req/s; baseline: the leanest Fastify + undici forwarder)',
          ours: `${summarize(ours).median}`,
          baseline: `${summarize(base).median}`,
          ratio: `${ratio(ours, base)}×`,
          target: '≥ 0.8×',
          met: ratio(ours, base) >= 0.8,
        });
        details.proxyVsForwarder = { proxied: oursF, forwarder: lean };
      }
    }
    return { rows, details };
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}
