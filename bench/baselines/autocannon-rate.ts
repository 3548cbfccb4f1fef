/** autocannon at a fixed overall rate for the same count, in its own process; prints the count and the CPU it used. */
import autocannon from 'autocannon';

const [url, rate, durationMs] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
];
const run = (amount: number) =>
  autocannon({
    url: `${url}/rpc`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'bench' }),
    connections: 64,
    overallRate: rate,
    amount,
  });
// Warm up first, as our generator is warmed up too.
await run(rate);
const cpuBefore = process.cpuUsage();
const amount = Math.round((rate * durationMs) / 1000);
const result = await run(amount);
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({ sent: amount, ok: result['2xx'], cpuS: (cpu.user + cpu.system) / 1e6 })}\n`,
);
