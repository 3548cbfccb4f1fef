import { Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from './process-metrics.ts';

/** Buckets in seconds from 1 ms to 10 s, dense where the seed's latencies live. */
export const latencyBucketsSeconds = [
  0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1,
  1.5, 2.5, 5, 10,
];

/** Buckets from 0.1 ms to 1 s for the host's share of a call: sockets, event loops, the kernel. */
export const overheadBucketsSeconds = [
  0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02,
  0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1,
];

/** One value per label value, built once (e.g. a metric's children bound to each label value). */
export function boundByLabel<L extends string, T>(
  values: readonly L[],
  bind: (value: L) => T,
): Record<L, T> {
  return Object.fromEntries(values.map((value) => [value, bind(value)])) as Record<L, T>;
}

/**
 * A caller's host overhead per downstream call: the attempt's duration minus the
 * downstream's own `Server-Timing`, i.e. the time spent in transport and event loops.
 */
export function hostOverheadHistogram(service: string, registry: Registry) {
  const histogram = new Histogram({
    name: `${service}_host_overhead_seconds`,
    help: 'Per downstream call that answered: its duration minus the downstream’s own Server-Timing (transport and event loops).',
    buckets: overheadBucketsSeconds,
    registers: [registry],
  });
  return (seconds: number, serviceSeconds: number | undefined) => {
    if (serviceSeconds !== undefined) histogram.observe(Math.max(0, seconds - serviceSeconds));
  };
}

/**
 * A registry of the service's own (never prom-client's global one), so several
 * services can live in one process. Every series carries `service`.
 */
export function createMetricsRegistry(service: string, { processMetrics = true } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (processMetrics) collectProcessMetrics(registry);
  return registry;
}
