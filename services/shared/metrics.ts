import { collectDefaultMetrics, Registry } from 'prom-client';

/** Buckets in seconds from 1 ms to 10 s, dense where the seed's latencies live. */
export const latencyBucketsSeconds = [
  0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1,
  1.5, 2.5, 5, 10,
];

/**
 * A registry of the service's own (never prom-client's global one), so several
 * services can live in one process. Every series carries `service`.
 */
export function createMetricsRegistry(service: string, { processMetrics = true } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (processMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
