import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { Counter, Gauge, Histogram } from 'prom-client';
import { createMetricsRegistry, latencyBucketsSeconds } from '../../services/shared/metrics.ts';
import { type LoadTarget } from './series.ts';

/** What the generator offered and got, for Prometheus to scrape while a run lasts. */
export interface LoadMetrics {
  answered(target: LoadTarget, result: 'ok' | 'failed' | 'dropped', seconds: number | null): void;
  outstanding(target: LoadTarget, count: number): void;
}

export function createLoadMetrics() {
  const registry = createMetricsRegistry('loadgen');
  const requests = new Counter({
    name: 'loadgen_requests_total',
    help: 'Scheduled arrivals by result: ok, failed (an error answer), dropped (429 or the generator cap)',
    labelNames: ['target', 'result'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'loadgen_request_duration_seconds',
    help: 'From the scheduled send to the answer (open loop: no coordinated omission)',
    labelNames: ['target'],
    buckets: latencyBucketsSeconds,
    registers: [registry],
  });
  const outstanding = new Gauge({
    name: 'loadgen_outstanding_requests',
    help: 'Requests sent and not yet answered',
    labelNames: ['target'],
    registers: [registry],
  });
  for (const target of ['rpc', 'events'] as const) {
    for (const result of ['ok', 'failed', 'dropped'] as const) requests.inc({ target, result }, 0);
    outstanding.set({ target }, 0);
  }
  const metrics: LoadMetrics = {
    answered(target, result, seconds) {
      requests.inc({ target, result });
      if (seconds !== null) duration.observe({ target }, seconds);
    },
    outstanding(target, count) {
      outstanding.set({ target }, count);
    },
  };
  return { registry, metrics };
}

/**
 * Serves `GET /metrics` on `port` for as long as a load or experiment command runs.
 * Plain node:http: one read-only endpoint needs no framework.
 */
export async function serveLoadMetrics(
  port: number,
  host: string,
): Promise<{ metrics: LoadMetrics; url: string; close(): Promise<void> }> {
  const { registry, metrics } = createLoadMetrics();
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      void registry.metrics().then((text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(text);
      });
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not_found', message: 'only GET /metrics is served' }));
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    metrics,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
