/**
 * The generator's HTTP client alone, paced as the generator is (a timer, what fell due sent)
 * but recording nothing: `wire.ts URL RATE DURATION_MS`; prints the count and the CPU it
 * used. Against the generator it prices the recording (histograms, series, bursts), against
 * autocannon the transport.
 */
import { WirePool } from '../../load/generator/wire-pool.ts';

const [url, rate, durationMs] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
];
const pool = new WirePool(url, 64);

function run(count: number): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    let ok = 0;
    const start = performance.now();
    const handler = {
      onRequestStart: () => undefined,
      onResponseStart: (status: number) => (ok += status === 200 ? 1 : 0),
      onResponseData: () => undefined,
      onResponseEnd: () => ++answered === count && resolve(ok),
      onResponseError: () => ++answered === count && resolve(ok),
    };
    const tick = () => {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      for (; sent < due; sent += 1)
        pool.dispatch(
          {
            method: 'POST',
            path: '/rpc',
            headerLines: 'content-type: application/json\r\n',
            body: `{"id":"req-${sent}"}`,
          },
          handler,
        );
      if (sent < count) setTimeout(tick, 1);
    };
    tick();
  });
}

// Warm up first, as the generator and autocannon are.
await run(rate);
const cpuBefore = process.cpuUsage();
const count = Math.round((rate * durationMs) / 1000);
const ok = await run(count);
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({ sent: count, ok, cpuS: (cpu.user + cpu.system) / 1e6 })}\n`,
);
await pool.close();
