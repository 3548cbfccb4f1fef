import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, Scrape } from '../../load/stack/prom-text.ts';
import { collectProcessMetrics } from '../../services/shared/process-metrics.ts';

const scrape = async (registry: Registry) =>
  new Scrape(parsePrometheusText(await registry.metrics()));

/** Holds the event loop for `ms`: the delay histogram records it when its timer fires late. */
function block(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('the process metrics', () => {
  it('report a stall in the scrape that follows it, and only there', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const max = async () => (await scrape(registry)).sum('nodejs_eventloop_lag_max_seconds');
    await scrape(registry);
    // A histogram just reset (each scrape resets it) records from its second tick on. Its
    // 10 ms timer is due before this 25 ms one, so it has ticked by then: an order, not a race.
    await sleep(25);
    block(300);
    // The histogram's tick, overdue since the stall, is due before this 15 ms timer: by then it
    // has recorded the stall (an order, not a race).
    await sleep(15);
    const after = await scrape(registry);
    // Its own scrape, not the next one: the figures are set before they are read.
    expect(after.sum('nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.25);
    expect(after.sum('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0.25);
    // Each scrape starts a new window: the one straight after holds no 300 ms delay.
    expect(await max()).toBeLessThan(0.25);
  });

  it('keep prom-client’s names, without the standard deviation and the active resources', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const names = new Set((await scrape(registry)).samples.map((sample) => sample.name));
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_min_seconds',
      'nodejs_eventloop_lag_max_seconds',
      'nodejs_eventloop_lag_mean_seconds',
      'nodejs_eventloop_lag_p50_seconds',
      'nodejs_eventloop_lag_p90_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(names, name).toContain(name);
    expect(names).not.toContain('nodejs_eventloop_lag_stddev_seconds');
    expect(names).not.toContain('nodejs_active_resources');
  });
});
