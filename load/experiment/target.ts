import { lookup } from 'node:dns/promises';
import { call } from '../stack/http-json.ts';
import type { Scrape } from '../stack/prom-text.ts';
import { readQueueCounts, waitForDrain } from '../stack/queue-counts.ts';
import { type ServiceName, serviceNames, type Stack } from '../stack/stack.ts';
import type { FailureModelParams } from '../../services/downstream/failure-model.ts';
import type { Policy } from '../../services/gateway/policy.ts';
import type { ProducerPolicy } from '../../services/shared/event-job.ts';
import type { WorkerPolicy } from '../../services/worker/config.ts';
import { AdminClient } from '../stack/admin-client.ts';

/**
 * The origins of a running stack's services: one each, and every worker origin named
 * (a topic's stack has a worker per subscriber; a compose name stands for its replicas).
 */
export interface StackUrls {
  downstream: string;
  gateway: string;
  producer: string;
  workers: string[];
}

/** Where one run's traffic and admin calls go. */
export interface Target {
  urls: StackUrls;
  /** Every worker replica's origin: a hostname that resolves to several addresses (compose replicas) gives several. */
  workers: string[];
  admin: AdminClient;
  /** Request ids must not repeat on a long-lived queue (the producer answers a repeat as a duplicate). */
  idPrefix: string;
  /** The last scrape of each worker killed during the run: its counters still count. */
  retiredWorkers: Scrape[];
  /** A fresh stack only: SIGKILL the worker at `index` and start another; answers its origin. */
  killWorker?: (index: number) => Promise<string>;
}

/**
 * Parses `downstream=URL,gateway=URL,producer=URL,worker=URL[,worker=URL…]`: every
 * service named, once, except the worker, which may be named once per worker (a topic's
 * stack has one per subscriber).
 */
export function parseUrls(text: string): { urls?: StackUrls; problems: string[] } {
  const problems: string[] = [];
  const urls: Record<string, string> = {};
  const workers: string[] = [];
  const named = new Set<string>();
  for (const pair of text.split(',').filter(Boolean)) {
    const [name = '', url] = pair.split(/=(.*)/s, 2);
    if (!serviceNames.includes(name as ServiceName)) {
      problems.push(`--urls: "${name}" is not a service (${serviceNames.join(', ')})`);
      continue;
    }
    if (named.has(name) && name !== 'worker') problems.push(`--urls: ${name} is named twice`);
    named.add(name);
    if (!url || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      problems.push(`--urls: ${name} needs an http(s) URL, got "${url ?? ''}"`);
      continue;
    }
    const origin = url.replace(/\/+$/, '');
    if (name === 'worker') workers.push(origin);
    else urls[name] = origin;
  }
  for (const name of serviceNames)
    if (!named.has(name)) problems.push(`--urls: ${name}=URL is missing`);
  return problems.length > 0
    ? { problems }
    : { urls: { ...(urls as Omit<StackUrls, 'workers'>), workers }, problems };
}

/**
 * One origin per address the URL's host resolves to and that answers `/healthz`: compose
 * replicas share a name, while `localhost` may resolve to ::1 where nothing listens.
 */
export async function replicasOf(origin: string): Promise<string[]> {
  const url = new URL(origin);
  const addresses = await lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(
    () => [],
  );
  if (addresses.length <= 1) return [origin];
  const candidates = addresses.map(({ address, family }) => {
    const replica = new URL(origin);
    replica.hostname = family === 6 ? `[${address}]` : address;
    return replica.origin;
  });
  const healthy = await Promise.all(
    candidates.map((candidate) =>
      call(`${candidate}/healthz`, 'GET').then(
        (response) => response.status === 200,
        () => false,
      ),
    ),
  );
  const live = candidates.filter((_, i) => healthy[i]);
  return live.length > 0 ? live : [origin];
}

/** A local stack's origins. */
export const urlsOf = ({ services, workers }: Stack): StackUrls => ({
  downstream: services.downstream.url,
  gateway: services.gateway.url,
  producer: services.producer.url,
  workers: workers.map((worker) => worker.url),
});

/** A fresh local stack's target: one worker, its own queue, ids that need no stamp. */
export function localTarget(stack: Stack, runName: string): Target {
  return {
    urls: urlsOf(stack),
    workers: stack.workers.map((worker) => worker.url),
    admin: new AdminClient(stack.adminToken),
    idPrefix: runName,
    retiredWorkers: [],
    killWorker: async (index) => (await stack.restartWorker(index)).url,
  };
}

/** What a stack's services run with now: the downstream's model and every caller's policy. */
export interface StackSettings {
  model: FailureModelParams;
  gateway: Policy;
  producer: ProducerPolicy;
  /** One per worker replica, in the order of `Target.workers`. */
  workers: WorkerPolicy[];
}

/** Reads a target's settings from its admin endpoints. */
export async function readSettings(
  target: Pick<Target, 'urls' | 'workers' | 'admin'>,
): Promise<StackSettings> {
  const { admin, urls } = target;
  const [faults, gateway, producer, workers] = await Promise.all([
    admin.get(`${urls.downstream}/admin/faults`),
    admin.get(`${urls.gateway}/admin/policy`),
    admin.get(`${urls.producer}/admin/policy`),
    Promise.all(target.workers.map((worker) => admin.get(`${worker}/admin/policy`))),
  ]);
  return {
    model: (faults as { model: FailureModelParams }).model,
    gateway: (gateway as { policy: Policy }).policy,
    producer: producer as ProducerPolicy,
    workers: workers as WorkerPolicy[],
  };
}

/**
 * A stack the runner did not start (docker compose, `cascade-lab up`): nothing is
 * restarted, so before and after each run it is put back where the experiment found it.
 */
export class RunningStack {
  readonly #target: Omit<Target, 'idPrefix' | 'retiredWorkers'>;
  /** The settings the experiment found; each run starts from them again. */
  readonly #baseline: StackSettings;
  /** Makes request ids unique to this experiment. */
  readonly #stamp = Date.now().toString(36);

  /** The topic's subscribers, as its producer publishes to them; empty: a plain queue. */
  readonly subscribers: string[];

  private constructor(
    target: Omit<Target, 'idPrefix' | 'retiredWorkers'>,
    baseline: StackSettings,
    subscribers: string[],
  ) {
    this.#target = target;
    this.#baseline = baseline;
    this.subscribers = subscribers;
  }

  /**
   * Finds the worker replicas, the topic's subscribers (from the producer) and the
   * settings the stack has now.
   */
  static async connect(urls: StackUrls, adminToken: string | undefined): Promise<RunningStack> {
    const replicas = await Promise.all(urls.workers.map(replicasOf));
    const target = {
      urls,
      workers: [...new Set(replicas.flat())],
      admin: new AdminClient(adminToken),
    };
    const [settings, counts] = await Promise.all([
      readSettings(target),
      readQueueCounts(urls.producer, adminToken),
    ]);
    if (!counts)
      throw new Error(
        `the producer at ${urls.producer} does not answer GET /admin/queue (is its Redis up?)`,
      );
    const subscribers = (counts.subscribers ?? []).flatMap((queue) =>
      queue.name === null ? [] : [queue.name],
    );
    return new RunningStack(target, settings, subscribers);
  }

  get downstreamUrl(): string {
    return this.#target.urls.downstream;
  }

  /** Runs given a target so far: a run's repeats get ids of their own. */
  #targets = 0;

  targetFor(runName: string): Target {
    this.#targets += 1;
    return {
      ...this.#target,
      idPrefix: `${runName}-${this.#stamp}-${this.#targets}`,
      retiredWorkers: [],
    };
  }

  /**
   * Faults cleared (and the startup model back), the first policies again, the queue
   * drained and its completed jobs removed (the runner counts completions as a difference).
   */
  async reset(): Promise<void> {
    const { urls, workers, admin } = this.#target;
    const baseline = this.#baseline;
    await admin.delete(`${urls.downstream}/admin/faults`);
    await admin.put(`${urls.gateway}/admin/policy`, baseline.gateway);
    await admin.put(`${urls.producer}/admin/policy`, baseline.producer);
    await Promise.all(
      workers.map((worker, i) => admin.put(`${worker}/admin/policy`, baseline.workers[i])),
    );
    await waitForDrain(urls.producer, { timeoutMs: 120_000, adminToken: admin.adminToken });
    await admin.delete(`${urls.producer}/admin/queue/completed`);
  }
}
