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
    await scrape(registry);
    await sleep(50);
    block(300);
    await sleep(50);
    const after = await scrape(registry);
    // Its own scrape, not the next one: the figures are set before they are read.
    expect(after.sum('nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.25);
    expect(after.sum('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0.25);
    await sleep(100);
    // Each scrape starts a new window: a quiet 100 ms holds no 300 ms delay (wide margin).
    expect((await scrape(registry)).sum('nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.25);
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
