import { setTimeout as sleep } from 'node:timers/promises';
import { Scrape } from '../stack/prom-text.ts';
import { queueDepth, readQueueCounts } from '../stack/queue-counts.ts';
import type { ServiceName } from '../stack/stack.ts';
import type { SubscriberSample, SystemSample } from './result.ts';
import type { Target } from './target.ts';

/** One scrape summed over replicas. */
async function scrapeMany(origins: string[]): Promise<Scrape> {
  const scrapes = await Promise.all(origins.map((origin) => Scrape.of(origin)));
  return new Scrape(scrapes.flatMap((scrape) => scrape.samples));
}

/** Every worker's `/metrics`, summed, with the last words of those killed during the run. */
const workersScrape = async (target: Target): Promise<Scrape> =>
  new Scrape([
    ...(await scrapeMany(target.workers)).samples,
    ...target.retiredWorkers.flatMap((scrape) => scrape.samples),
  ]);

/** Every service's `/metrics` at once; the workers' summed over replicas. */
export async function scrapeAll(target: Target): Promise<Record<ServiceName, Scrape>> {
  const [downstream, gateway, producer, worker] = await Promise.all([
    Scrape.of(target.urls.downstream),
    Scrape.of(target.urls.gateway),
    Scrape.of(target.urls.producer),
    workersScrape(target),
  ]);
  return { downstream, gateway, producer, worker };
}

/** The largest `nodejs_eventloop_lag_max_seconds` (prom-client: the max since its last collect) in ms. */
function loopLag(scrapes: Array<Scrape | null>): number | null {
  const values = scrapes
    .flatMap((scrape) => scrape?.samples ?? [])
    .filter((sample) => sample.name === 'nodejs_eventloop_lag_max_seconds')
    .map((sample) => sample.value * 1000);
  return values.length === 0 ? null : Math.max(...values);
}

async function sampleSystem(
  target: Target,
  runTarget: 'rpc' | 'events',
  startedAt: number,
  before: Scrape,
): Promise<SystemSample> {
  const rpc = runTarget === 'rpc';
  const caller = rpc ? 'gateway' : 'worker';
  const [downstream, callerScrape, counts] = await Promise.all([
    Scrape.of(target.urls.downstream).catch(() => null),
    (rpc ? Scrape.of(target.urls.gateway) : workersScrape(target)).catch(() => null),
    rpc ? Promise.resolve(null) : readQueueCounts(target.urls.producer, target.admin.adminToken),
  ]);
  const since = (name: string, labels: Record<string, string> = {}) =>
    callerScrape ? callerScrape.sum(name, labels) - before.sum(name, labels) : null;
  const attemptsName = rpc ? 'gateway_downstream_attempts_total' : 'worker_attempts_total';
  // A topic's subscribers, each from its own queue and its workers' `subscriber` label.
  const subscribers = counts?.subscribers?.filter((queue) => queue.name !== null) ?? [];
  const bySubscriber = Object.fromEntries(
    subscribers.map((queue): [string, SubscriberSample] => {
      const mine = { subscriber: queue.name! };
      return [
        queue.name!,
        {
          queueDepth: queueDepth(queue),
          retries: since(`${caller}_retries_total`, mine),
          attempts: since(attemptsName, mine),
        },
      ];
    }),
  );
  return {
    atMs: Math.round(performance.now() - startedAt),
    loadFactor: downstream?.sum('downstream_load_factor') ?? null,
    peakLoadFactor: downstream?.sum('downstream_load_factor_peak') ?? null,
    downstreamInflight: downstream?.sum('downstream_inflight_requests') ?? null,
    breakerState: rpc ? (callerScrape?.sum('gateway_breaker_state') ?? null) : null,
    queueDepth: counts ? queueDepth(counts) : null,
    loopLagMs: loopLag([downstream, callerScrape]),
    retries: since(`${caller}_retries_total`),
    attempts: since(attemptsName),
    wastedWork: downstream?.sum('downstream_wasted_work_total') ?? null,
    ...(subscribers.length > 0 && { subscribers: bySubscriber }),
  };
}

export interface Sampler {
  /** The samples so far; the last one is the newest. */
  readonly samples: SystemSample[];
  /** Stops sampling and answers every sample taken. */
  stop(): Promise<SystemSample[]>;
}

/**
 * Samples the downstream and the run's caller every `everyMs` (a sample costs CPU the
 * system under test shares), counters relative to `before` (the caller's scrape at the start).
 */
export function startSampler(
  target: Target,
  runTarget: 'rpc' | 'events',
  before: Scrape,
  everyMs = 250,
): Sampler {
  const startedAt = performance.now();
  const samples: SystemSample[] = [];
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      samples.push(await sampleSystem(target, runTarget, startedAt, before));
      await sleep(everyMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();
  return {
    samples,
    // Stops at once: a run's end is not held back by the sampler's next tick.
    async stop() {
      stopping.abort();
      await loop;
      return samples;
    },
  };
}
