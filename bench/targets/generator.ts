/**
 * Our open-loop generator on one schedule, in its own process; prints what it did and the
 * CPU it used: `generator.ts URL SCHEDULE [CONNECTIONS]`, SCHEDULE as `cascade-lab load
 * --schedule` takes it (`constant:ratePerSecond=5000,durationMs=4000`); CONNECTIONS unset:
 * those the largest burst needs, opened first.
 */
import { connectFor, loadPool } from '../../load/generator/pool.ts';
import { runLoad } from '../../load/generator/generator.ts';
import { parseScheduleArg } from '../../load/schedule/schedule-text.ts';
import { buildSchedule, constant } from '../../load/schedule/schedule.ts';

const [url, scheduleArg, connectionsArg] = process.argv.slice(2);
const { spec, problems } = parseScheduleArg(scheduleArg ?? '');
if (!url || !spec) throw new Error(`generator.ts URL SCHEDULE: ${problems.join('; ')}`);
const offsetsMs = buildSchedule(spec);
// A fixed number of connections as autocannon is given, or as the schedule's largest burst needs.
const pool = connectionsArg
  ? loadPool(url, Number(connectionsArg))
  : await connectFor(url, offsetsMs);
// Warm up first (JIT, keep-alive connections), as autocannon's run is warmed up too.
await runLoad({ target: 'rpc', baseUrl: url, pool, offsetsMs: constant(2000, 1000) });
const cpuBefore = process.cpuUsage();
const result = await runLoad({ target: 'rpc', baseUrl: url, pool, offsetsMs });
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(
  `${JSON.stringify({
    sent: result.sent,
    ok: result.ok,
    failed: result.failed,
    dropped: result.dropped,
    latenessP50Ms: result.lateness.p50Ms,
    latenessP99Ms: result.lateness.p99Ms,
    burstSpreadP50Ms: result.bursts?.spreadP50Ms ?? null,
    burstSpreadMaxMs: result.bursts?.spreadMaxMs ?? null,
    cpuS: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
await pool.close();
