import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../load/generator/generator.ts';
import { serveLoadMetrics } from '../../load/generator/metrics.ts';
import { Scrape } from '../../load/stack/prom-text.ts';
import { constant } from '../../load/schedule/schedule.ts';
import { type Stack, startStack } from '../../load/stack/stack.ts';
import {
  asGrafanaSends,
  committedDashboards,
  dashboardQueries,
  dashboardVariables,
  metricNames,
  recordingRules,
} from '../support/dashboards.ts';
import { call } from '../support/http.ts';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus.ts';

/**
 * The proof behind the dashboards: a real Prometheus, with the repository's config and
 * rules, scrapes a real local stack and the load generator during a short load with a
 * fault; then every panel query, annotation, variable and recording rule must return data.
 */
let stack: Stack;
let prometheus: RunningPrometheus;
let loadMetrics: Awaited<ReturnType<typeof serveLoadMetrics>>;
/** A moment inside the load, in Prometheus' seconds, at which every query is asked. */
let probeAt: number;

const hostPort = (url: string) => new URL(url).host;
const subscribers = ['billing', 'audit'];

beforeAll(async () => {
  // A topic, as compose and `cascade-lab up` run it (two subscribers, not three: the
  // generator, Prometheus and the stack share two cores, and a starved scrape leaves a gap).
  stack = await startStack({ seed: 17, queueName: 'observability', subscribers });
  loadMetrics = await serveLoadMetrics(0, '127.0.0.1');
  const { downstream, gateway, producer } = stack.services;
  prometheus = await startPrometheus({
    downstream: hostPort(downstream.url),
    gateway: hostPort(gateway.url),
    producer: hostPort(producer.url),
    worker: stack.workers.map((worker) => hostPort(worker.url)),
    loadgen: hostPort(loadMetrics.url),
  });
  // Every target up before the load (the first scrape comes within a scrape interval).
  const targets = 4 + stack.workers.length;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { result } = await prometheus.query('sum(up)');
    const up = Number((result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
    if (up === targets) break;
    if (Date.now() > deadline) throw new Error(`only ${up} of ${targets} targets up after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // 12 s of both paths at 80 req/s each; from 3 s on, 30 % of downstream calls fail, so
  // retries, breaker moves and dead letters have something to show.
  const faultTimer = setTimeout(() => {
    void call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      body: { faults: [{ kind: 'error', durationMs: 30_000, fraction: 0.3 }] },
    });
  }, 3000);
  const probeTimer = setTimeout(() => (probeAt = Date.now() / 1000), 11_000);
  await Promise.all(
    (['rpc', 'events'] as const).map((target) =>
      runLoad({
        target,
        baseUrl: target === 'rpc' ? gateway.url : producer.url,
        offsetsMs: constant(80, 12_000),
        idPrefix: `observability-${target}`,
        metrics: loadMetrics.metrics,
      }),
    ),
  );
  clearTimeout(faultTimer);
  clearTimeout(probeTimer);
  // Let two more scrapes and rule evaluations land after the probe time.
  await new Promise((resolve) => setTimeout(resolve, 5000));
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await loadMetrics?.close();
  await stack?.stop();
});

const boards = committedDashboards();
/** The one value an instant query answers at the probe time. */
const value = async (expr: string) =>
  Number(
    ((await prometheus.query(expr, probeAt)).result[0] as { value: [number, string] }).value[1],
  );
const panelQueries = Object.entries(boards).flatMap(([file, board]) =>
  dashboardQueries(file, board),
);

describe('dashboards and rules against a real Prometheus scraping the real services', () => {
  it.each(panelQueries.map((query) => [query.where, query.expr]))(
    '%s returns data: %s',
    async (_where, expr) => {
      const { result, error } = await prometheus.query(asGrafanaSends(expr), probeAt);
      expect(error).toBeUndefined();
      expect(result.length, `no series for ${expr}`).toBeGreaterThan(0);
    },
  );

  it.each(recordingRules().map((rule) => [rule.record, rule.labels ?? {}]))(
    'recording rule %s %o has a value',
    async (record, labels) => {
      const selector = Object.entries(labels)
        .map(([key, value]) => `${key}="${value}"`)
        .join(',');
      const { result, error } = await prometheus.query(`${record}{${selector}}`, probeAt);
      expect(error).toBeUndefined();
      // One series; a `subscriber:` rule has one per subscriber.
      expect(result.length, `${record}{${selector}}`).toBe(
        record.startsWith('subscriber:') ? subscribers.length : 1,
      );
    },
  );

  it('the events dashboard finds the subscribers and the worker instances for its variables', async () => {
    const variables = dashboardVariables(boards['events.json']!);
    expect(variables.map((variable) => variable.name)).toEqual(['subscriber', 'instance']);
    for (const variable of variables) {
      const { result } = await prometheus.query(
        `count by (${variable.label}) (${variable.metric})`,
        probeAt,
      );
      // A worker per subscriber: as many instances as subscribers.
      expect(result.length, variable.name).toBe(subscribers.length);
    }
    // The events path divides its completions and dead letters by this (per subscriber).
    expect(await value('events:subscribers:count')).toBe(subscribers.length);
  });

  it('every metric a dashboard or rule names is exported by a service or the generator, or is a recording rule', async () => {
    const exported = new Set<string>();
    for (const url of [...Object.values(stack.services).map((s) => s.url), loadMetrics.url]) {
      for (const sample of (await Scrape.of(url)).samples) exported.add(sample.name);
    }
    const recorded = new Set(recordingRules().map((rule) => rule.record));
    const named = new Set([
      ...panelQueries.flatMap((query) => metricNames(query.expr)),
      ...recordingRules().flatMap((rule) => metricNames(rule.expr)),
    ]);
    expect(named.size).toBeGreaterThan(30);
    expect([...named].filter((name) => !exported.has(name) && !recorded.has(name))).toEqual([]);
  });

  it('the alert rules loaded and the load drove the numbers the overview shows', async () => {
    const rules = await call(`${prometheus.url}/api/v1/rules?type=alert`);
    const names = (rules.body.data as { groups: Array<{ rules: Array<{ name: string }> }> }).groups
      .flatMap((group) => group.rules)
      .map((rule) => rule.name);
    expect(names.sort()).toEqual([
      'BreakerOpenTooLong',
      'DeadLetterQueueGrowing',
      'QueueNearBound',
      'RetryAmplificationHigh',
    ]);
    // 80 req/s offered on each path, seen by the generator and by the services.
    expect(await value('sum(rate(loadgen_requests_total{target="rpc"}[10s]))')).toBeGreaterThan(50);
    expect(await value('path:requests:rate10s{path="rpc"}')).toBeGreaterThan(50);
    expect(await value('path:requests:rate10s{path="events"}')).toBeGreaterThan(50);
    // With 30 % of calls failing, retries amplify both paths above 1.
    expect(await value('path:retry_amplification:rate10s{path="events"}')).toBeGreaterThan(1);
    expect(await value('sum(rate(gateway_retries_total[10s]))')).toBeGreaterThan(0);
    expect(await value('max by (kind) (downstream_active_faults) > 0')).toBe(1);
  });
});
