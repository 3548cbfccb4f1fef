import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../../load/generator/generator.ts';
import { buildSchedule, closedLoopOf, type ScheduleSpec } from '../../load/schedule/schedule.ts';
import { warmupLoad } from '../../load/experiment/time-scale.ts';

const open: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/**
 * A real HTTP target that answers in `latencyMs`, except that it stalls — holds every
 * answer — from `stallFromMs` for `stallMs` after its first request.
 */
async function stallingTarget(latencyMs: number, stallFromMs: number, stallMs: number) {
  let firstAt: number | undefined;
  const server = Fastify();
  server.post('/rpc', async () => {
    const now = performance.now();
    firstAt ??= now;
    const stallEnd = firstAt + stallFromMs + stallMs;
    const at = now - firstAt;
    const wait = at >= stallFromMs && at < stallFromMs + stallMs ? stallEnd - now : 0;
    await new Promise((resolve) => setTimeout(resolve, latencyMs + wait));
    return { ok: true };
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  open.push(server);
  return url.replace(/\/$/, '');
}

const run = (baseUrl: string, spec: ScheduleSpec) =>
  runLoad({ target: 'rpc', baseUrl, offsetsMs: buildSchedule(spec), closed: closedLoopOf(spec) });

describe('closed-loop load (kind: closed) against a real server', () => {
  it('each user sends, waits for the answer, thinks, and sends again until the duration', async () => {
    const baseUrl = await stallingTarget(40, 60_000, 0);
    const result = await run(baseUrl, {
      kind: 'closed',
      users: 3,
      thinkTimeMs: 60,
      durationMs: 2000,
    });
    // ≥ 100 ms a round: at most 20 requests a user; a loaded machine makes fewer.
    expect(result.sent).toBeGreaterThanOrEqual(3 * 5);
    expect(result.sent).toBeLessThanOrEqual(3 * 20);
    expect(result.ok).toBe(result.sent);
    // Latency is the request's own, from its send: the think time is not in it.
    expect(result.latency.p50Ms).toBeGreaterThanOrEqual(40);
    expect(result.latency.p50Ms).toBeLessThan(95);
  });

  it('hides a stall that an open loop at the same mean rate shows (coordinated omission)', async () => {
    // One user, no think time: 20 requests a second while the server answers in 50 ms.
    const closedUrl = await stallingTarget(50, 500, 2000);
    const closed = await run(closedUrl, {
      kind: 'closed',
      users: 1,
      thinkTimeMs: 0,
      durationMs: 3000,
    });
    const openUrl = await stallingTarget(50, 500, 2000);
    const rate = (closed.sent / 3000) * 1000;
    const openLoop = await run(openUrl, {
      kind: 'constant',
      ratePerSecond: rate,
      durationMs: 3000,
    });
    // The closed loop waited out the stall with one request in it: one slow answer among many.
    expect(closed.latency.maxMs).toBeGreaterThanOrEqual(1900);
    expect(closed.latency.p50Ms).toBeLessThan(200);
    // The open loop kept sending through it: every request due in the stall waited for its end.
    expect(openLoop.latency.p50Ms!).toBeGreaterThan(3 * closed.latency.p50Ms!);
    expect(openLoop.latency.p95Ms!).toBeGreaterThanOrEqual(1000);
  });

  it.each([
    {
      load: 'bursts of 350',
      schedule: [0, 0, 0, ...new Array<number>(347).fill(0), 80],
      users: 40,
      total: 80,
    },
    { load: 'a steady 100/s', schedule: [0, 10, 20, 30], users: 4, total: 40 },
  ])(
    "the runner's warm-up for $load: $total requests, $users at once and never more",
    async ({ schedule, users, total }) => {
      let inFlight = 0;
      let most = 0;
      let served = 0;
      // Answers are held until `users` calls are in at once (state, not a clock): a loop that
      // kept fewer in flight would show as most < users after the 5 s fallback, more as more.
      let release = () => {};
      let full = new Promise<void>((resolve) => (release = resolve));
      const server = Fastify();
      server.post('/rpc', async () => {
        served += 1;
        most = Math.max(most, (inFlight += 1));
        if (inFlight >= users) release();
        await Promise.race([full, new Promise((resolve) => setTimeout(resolve, 5000))]);
        inFlight -= 1;
        if (inFlight === 0) full = new Promise<void>((resolve) => (release = resolve));
        return { ok: true };
      });
      const baseUrl = (await server.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');
      open.push(server);
      const result = await runLoad({ target: 'rpc', baseUrl, ...warmupLoad(schedule) });
      expect(result.sent).toBe(total);
      expect(result.ok).toBe(total);
      expect(served).toBe(total);
      expect(most).toBe(users);
    },
  );
});
