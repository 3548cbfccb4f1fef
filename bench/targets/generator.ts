/** Our open-loop generator at a fixed rate, in its own process; prints what it did and the CPU it used. */
import { runLoad } from '../../load/generator.ts';
import { constant } from '../../load/schedule.ts';

const [url, rate, durationMs] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
];
const offsetsMs = constant(rate, durationMs);
// Warm up first (JIT, 64 keep-alive connections), as autocannon's run is warmed up too.
await runLoad({ target: 'rpc', baseUrl: url, offsetsMs: constant(rate, 1000), connections: 64 });
const cpuBefore = process.cpuUsage();
const result = await runLoad({ target: 'rpc', baseUrl: url, offsetsMs, connections: 64 });
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({
    sent: result.sent,
    ok: result.ok,
    failed: result.failed,
    dropped: result.dropped,
    latenessP99Ms: result.lateness.p99Ms,
    cpuS: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
