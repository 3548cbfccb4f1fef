/**
 * The load generator's CPU per request against its peers, each in its own send pattern and in
 * ours; its lateness and highest clean rate; bursts; wrk at full speed as a reference.
 */
import { alternate, jsonChild, type PartResult, type Row } from '../harness.ts';
import { log, median, round, spawnServer, summarize } from '../lib.ts';
import { heyCpuPerRequest, wrkCpuPerRequest } from '../peers.ts';
import type { Peers } from '../setup.ts';

type Runs = Array<Record<string, number>>;
const perRequestUs = (r: Record<string, number>) => (r.cpuS! / r.sent!) * 1e6;
/**
 * The generator's CPU per request may be its peer's within the spread of paired rounds: ours
 * and the peer's ratio moved 0.86–1.15× round to round on 2026-12-06 (docs/performance.md).
 */
const cpuLimit = 1.1;

/** The median of per-round ratios (each pair ran back to back), and the row it makes. */
function cpuRow(what: string, ours: Runs, theirs: Runs, baseline: string, judged: boolean): Row {
  const oursUs = ours.map(perRequestUs);
  const theirsUs = theirs.map(perRequestUs);
  const ratio = round(median(oursUs.map((value, i) => value / theirsUs[i]!)), 2);
  return {
    what,
    ours: `${round(median(oursUs), 1)}`,
    baseline: `${round(median(theirsUs), 1)} (${baseline})`,
    ratio: `${ratio}×`,
    target: judged ? `≤ ${cpuLimit}×` : 'report',
    met: judged ? ratio <= cpuLimit : null,
  };
}

export async function generator(rounds: number, peers: Peers): Promise<PartResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  log(
    'load generator: ours vs hey (evenly paced) and autocannon (its own pattern) at 5 000 req/s against a bare node:http server; the highest clean rate; bursts of 350; wrk at full speed',
  );
  const echo = await spawnServer('bench/baselines/echo.ts');
  try {
    const rate = 5000;
    const durationMs = 4000;
    const constantAt = (perSecond: number, ms: number) =>
      `constant:ratePerSecond=${perSecond},durationMs=${ms}`;
    // 64 connections each, as autocannon and hey are given.
    const ours = () =>
      jsonChild('bench/targets/generator.ts', [echo.url, constantAt(rate, durationMs), '64']);
    // autocannon's `overallRate`: each connection sends its second's quota back to back, then
    // waits for the next second; ours in that pattern is a second's arrivals at once, queued
    // for 64 connections (docs/performance.md measured both at the server).
    const oursAsCannon = () =>
      jsonChild('bench/targets/generator.ts', [
        echo.url,
        `bursts:total=${(rate * durationMs) / 1000},burst=${rate},gapMs=1000`,
        '64',
      ]);
    const cannon = () =>
      jsonChild('bench/baselines/autocannon-rate.ts', [echo.url, String(rate), String(durationMs)]);
    const wire = () =>
      jsonChild('bench/targets/wire.ts', [echo.url, String(rate), String(durationMs)]);
    const hey = peers.hey;
    const heyRun = hey
      ? async () =>
          heyCpuPerRequest(hey, echo.url, rate, durationMs) as Promise<Record<string, number>>
      : undefined;
    // How each one's requests reached the server: evenly (~50 per 10 ms) or in bursts.
    const arrivals = async () =>
      (await (await fetch(`${echo.url}/arrivals?crowded=${(2 * rate) / 100}`)).json()) as {
        largestPer10Ms: number;
        shareInCrowdedWindows: number;
      };
    const withPattern =
      (fn: () => Promise<Record<string, number>>) => async (): Promise<Record<string, number>> => {
        await arrivals();
        const result = await fn();
        return { ...result, ...(await arrivals()) };
      };
    const [oursRuns, asCannonRuns, cannonRuns, wireRuns, heyRuns] = await alternate(
      rounds,
      [ours, oursAsCannon, cannon, wire, ...(heyRun ? [heyRun] : [])].map(withPattern),
    );
    const pattern = (runs: Runs) =>
      `${round(median(runs.map((r) => r.shareInCrowdedWindows!)) * 100, 0)} %, up to ${median(runs.map((r) => r.largestPer10Ms!))}`;
    rows.push({
      what: `load generator: requests arriving in 10 ms windows of more than ${(2 * rate) / 100} (twice the even rate), and the most in one window`,
      ours: `evenly ${pattern(oursRuns!)}; as autocannon ${pattern(asCannonRuns!)}`,
      baseline: `autocannon ${pattern(cannonRuns!)}${heyRuns ? `; hey ${pattern(heyRuns)}` : ''}`,
      ratio: '—',
      target: 'report',
      met: null,
    });
    if (heyRuns)
      rows.push(
        cpuRow(
          'load generator: CPU per request, evenly paced at 5 000 req/s, 64 connections (µs)',
          oursRuns!,
          heyRuns,
          'hey, 64 workers paced evenly',
          true,
        ),
      );
    rows.push(
      cpuRow(
        "load generator: CPU per request in autocannon's pattern, 5 000 each second sent back to back on 64 connections (µs)",
        asCannonRuns!,
        cannonRuns!,
        'autocannon, overallRate 5 000',
        true,
      ),
      cpuRow(
        'load generator: CPU per request evenly paced (ours) against autocannon in its pattern (µs)',
        oursRuns!,
        cannonRuns!,
        'autocannon',
        false,
      ),
      // The recording's price: the same client, paced the same, keeping nothing.
      cpuRow(
        'load generator: evenly paced, against its own HTTP client paced the same and recording nothing (µs)',
        oursRuns!,
        wireRuns!,
        'the client alone',
        false,
      ),
    );
    const lateness = oursRuns!.map((r) => r.latenessP99Ms!);
    rows.push({
      what: 'load generator: lateness p99 at 5 000 req/s (ms, scheduled → written)',
      ours: `${round(median(lateness), 3)}`,
      baseline: '—',
      ratio: '—',
      target: '≤ 2 ms',
      met: median(lateness) <= 2,
    });
    const wrkRun = peers.wrk ? await wrkCpuPerRequest(peers.wrk, echo.url) : null;
    // The highest rate at which the median of five runs wrote within 2 ms of schedule (p99) and
    // none failed or was dropped; 64 connections, as wrk and autocannon are given (with a
    // connection per request in flight, a saturated server meets a storm of new connections).
    // Five, not three: at 10 000 req/s the tries fall either side of 2 ms on a shared machine,
    // and with three one slow try decided the row.
    let clean = 0;
    const steps: Array<Record<string, number>> = [];
    for (const step of [2000, 5000, 10_000, 15_000, 20_000, 25_000, 30_000]) {
      const tries: Array<Record<string, number>> = [];
      for (let k = 0; k < 5; k += 1)
        tries.push(
          await jsonChild('bench/targets/generator.ts', [echo.url, constantAt(step, 3000), '64']),
        );
      tries.sort((a, b) => a.latenessP99Ms! - b.latenessP99Ms!);
      const result = tries[2]!;
      steps.push({ rate: step, ...result });
      log(
        `  ${step} req/s: lateness p99 ${tries.map((t) => t.latenessP99Ms).join(' / ')} ms, failed ${result.failed}, dropped ${result.dropped}`,
      );
      if (result.latenessP99Ms! > 2 || result.failed! > 0 || result.dropped! > 0) break;
      clean = step;
    }
    rows.push({
      what: 'load generator: highest rate written within 2 ms (p99), nothing dropped, 64 connections (req/s)',
      ours: `${clean}`,
      baseline: wrkRun
        ? `wrk closed loop: ${round(wrkRun.requests / 5, 0)} req/s, ${round((wrkRun.cpuS / wrkRun.requests) * 1e6, 1)} µs CPU/req`
        : '—',
      ratio: '—',
      target: '≥ 10 000',
      met: clean >= 10_000,
    });
    // Bursts as the seed sends them: 350 at once, 20 times, 100 ms apart; connections opened first.
    const burstRuns: Array<Record<string, number>> = [];
    for (let k = 0; k < rounds; k += 1)
      burstRuns.push(
        await jsonChild('bench/targets/generator.ts', [
          echo.url,
          'bursts:total=7000,burst=350,gapMs=100',
        ]),
      );
    const spread = median(burstRuns.map((r) => r.burstSpreadP50Ms!));
    rows.push({
      what: 'load generator: a 350-request burst leaves in (ms, p50 of bursts, first → last request)',
      ours: `${round(spread, 2)}`,
      baseline: '—',
      ratio: '—',
      target: '≤ 15 ms',
      met: spread <= 15,
    });
    details.generator = {
      cpuPerRequestUs: {
        ours: summarize(oursRuns!.map(perRequestUs)),
        oursInAutocannonsPattern: summarize(asCannonRuns!.map(perRequestUs)),
        autocannon: summarize(cannonRuns!.map(perRequestUs)),
        clientAlone: summarize(wireRuns!.map(perRequestUs)),
        ...(heyRuns ? { hey: summarize(heyRuns.map(perRequestUs)) } : {}),
      },
      latenessP99Ms: summarize(lateness),
      steps,
      bursts: burstRuns,
      wrk: wrkRun,
    };
  } finally {
    await echo.stop();
  }
  return { rows, details };
}
