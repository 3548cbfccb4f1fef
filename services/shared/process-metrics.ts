import { monitorEventLoopDelay } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

/**
 * prom-client's defaults that cost a scrape most, replaced or left out (profiled, 5 000
 * scrapes of the gateway's /metrics at 0.8 ms each): its event-loop family reads the delay
 * histogram's standard deviation on every scrape, which Node computes by walking the whole
 * HDR histogram (180 µs, a fifth of the scrape), and `nodejs_active_resources` lists every
 * handle twice (70 µs, more with more sockets). No board or rule reads either.
 */
const replaced = [
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
];

/** The delay statistics kept, under prom-client's names: all but the standard deviation. */
const statistics = {
  min: (h: Delay) => h.min,
  max: (h: Delay) => h.max,
  mean: (h: Delay) => h.mean,
  p50: (h: Delay) => h.percentile(50),
  p90: (h: Delay) => h.percentile(90),
  p99: (h: Delay) => h.percentile(99),
};
type Delay = ReturnType<typeof monitorEventLoopDelay>;

/**
 * The process's own metrics: prom-client's defaults (CPU, memory, heap, handles, GC,
 * version) and the event loop's delay since the last scrape, as prom-client names them.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of replaced) registry.removeSingleMetric(name);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gauges: Array<readonly [Gauge, (h: Delay) => number]> = [];
  // Registered first, as prom-client does: the registry reads its metrics in order, so its
  // collect sets the figures below before they are read, not one scrape late.
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds: the wait of a callback queued at the previous scrape.',
    registers: [registry],
    // As prom-client measures it: the time until a setImmediate queued now runs, read at the next scrape.
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => this.set(Number(process.hrtime.bigint() - start) / 1e9));
      for (const [gauge, read] of gauges) gauge.set(read(delay) / 1e9);
      delay.reset();
    },
  });
  for (const [name, read] of Object.entries(statistics))
    gauges.push([
      new Gauge({
        name: `nodejs_eventloop_lag_${name}_seconds`,
        help: `The ${name} of the event loop delays recorded since the last scrape.`,
        registers: [registry],
      }),
      read,
    ]);
}
