/** Every service's RSS at rest, under 10× overload on both paths, and after; the queues stay bounded. */
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../../load/generator/generator.ts';
import { Scrape } from '../../load/stack/prom-text.ts';
import { constant } from '../../load/schedule/schedule.ts';
import { startStack } from '../../load/stack/stack.ts';
import type { PartResult, Row } from '../harness.ts';
import { log, median, round, rssMiB } from '../lib.ts';

export async function memory(): Promise<PartResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  log(
    'memory: every service at rest for 10 s, then 60 s of 10× overload on both paths, then 10 s after',
  );
  const stack = await startStack({ queueName: 'bench-memory' });
  const curve: Array<{ atS: number; phase: string; rssMiB: Record<string, number> }> = [];
  const peaks = { bulkheadQueued: 0, queueDepth: 0 };
  let phase = 'rest';
  const started = performance.now();
  const sampler = setInterval(() => {
    const rss: Record<string, number> = {};
    for (const [name, service] of Object.entries(stack.services))
      rss[name] = round(rssMiB(service.pid), 1);
    const point = { atS: round((performance.now() - started) / 1000, 1), phase, rssMiB: rss };
    curve.push(point);
    void Promise.all([
      Scrape.of(stack.services.gateway.url),
      Scrape.of(stack.services.producer.url),
    ]).then(
      ([gateway, producer]) => {
        peaks.bulkheadQueued = Math.max(
          peaks.bulkheadQueued,
          gateway.sum('gateway_bulkhead_queued'),
        );
        peaks.queueDepth = Math.max(
          peaks.queueDepth,
          producer.sum('producer_queue_depth_estimate'),
        );
      },
      () => undefined,
    );
  }, 2000);
  try {
    await sleep(10_000);
    phase = 'overload';
    // Capacity is 250 req/s; 10× is 2 500 req/s on each path.
    const loads = await Promise.all(
      (['rpc', 'events'] as const).map((target) =>
        runLoad({
          target,
          baseUrl: target === 'rpc' ? stack.services.gateway.url : stack.services.producer.url,
          offsetsMs: constant(2500, 60_000),
          idPrefix: `mem-${target}`,
          maxOutstanding: 5000,
        }),
      ),
    );
    phase = 'after';
    await sleep(10_000);
    const byService = Object.fromEntries(
      Object.keys(stack.services).map((name) => {
        const values = (p: string) =>
          curve.filter((point) => point.phase === p).map((point) => point.rssMiB[name]!);
        return [
          name,
          {
            rest: median(values('rest')),
            peak: Math.max(...values('overload')),
            after: values('after').at(-1),
          },
        ];
      }),
    );
    for (const [name, v] of Object.entries(byService))
      rows.push({
        what: `memory: ${name} RSS (MiB) at rest → peak under 10× → 10 s after`,
        ours: `${round(v.rest, 0)} → ${round(v.peak, 0)} → ${round(v.after ?? Number.NaN, 0)}`,
        baseline: 'itself at rest',
        ratio: `${round(v.peak / v.rest, 2)}× peak`,
        target: 'bounded',
        met: null,
      });
    rows.push({
      what: 'memory: queues under 10× (bulkhead queue ≤ 2 000, event queue ≤ MAX_DEPTH 5 000, generator ≤ 5 000 outstanding)',
      ours: `bulkhead ${peaks.bulkheadQueued}, queue ${peaks.queueDepth}`,
      baseline: '—',
      ratio: '—',
      target: 'bounded',
      met: peaks.bulkheadQueued <= 2000 && peaks.queueDepth <= 5000,
    });
    details.memory = {
      curve,
      peaks,
      load: loads.map((l) => ({
        target: l.target,
        sent: l.sent,
        ok: l.ok,
        failed: l.failed,
        dropped: l.dropped,
      })),
    };
  } finally {
    clearInterval(sampler);
    await stack.stop();
  }
  return { rows, details };
}
