import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { defaultStrategies, type ProvidedRedis, provideRedis } from './redis-provider.ts';
import { redisLabel } from '../../services/shared/redis-connection.ts';
import { startNodeServer, stopChild } from './child-process.ts';

export const serviceNames = ['downstream', 'gateway', 'producer', 'worker'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface StackService {
  name: ServiceName;
  /** `worker/<subscriber>` for a subscriber's worker; the name otherwise. */
  label: string;
  url: string;
  pid: number;
  logFile: string;
  process: ChildProcess;
}

export interface Stack {
  redis: ProvidedRedis;
  /** `worker` is the first of `workers`. */
  services: Record<ServiceName, StackService>;
  /** One per subscriber of the topic (one for a plain queue). */
  workers: StackService[];
  logDir: string;
  /** The ADMIN_TOKEN the services were given, if any; admin calls must send it. */
  adminToken?: string | undefined;
  /** Resolves with the first service that exits before `stop` is called. */
  unexpectedExit: Promise<{
    name: ServiceName;
    label: string;
    code: number | null;
    signal: NodeJS.Signals | null;
  }>;
  /** SIGTERM in reverse order (SIGKILL after `graceMs`), then Redis; removes a temp log dir. */
  stop(graceMs?: number): Promise<void>;
  /**
   * A crash and an orchestrator's restart: SIGKILLs the worker at `index` (of `workers`)
   * and starts another with the same settings in its place; answers the new one.
   */
  restartWorker(index: number): Promise<StackService>;
}

export interface StackOptions {
  /** A Redis to use; unset: a redis-server of its own (AOF, appendfsync always), else a container. */
  redisUrl?: string | undefined;
  /** A Redis Cluster to use instead (REDIS_CLUSTER_NODES, given to the producer and workers as is). */
  redisClusterNodes?: string | undefined;
  /**
   * Your own service: the downstream proxies to it (UPSTREAM_URL), and the gateway's
   * `/proxy` route goes to the downstream, so a request goes gateway → proxy → service.
   */
  ownService?: { url: string; failureStatuses?: string | undefined; model?: boolean | undefined };
  /** Given to every service as ADMIN_TOKEN; admin calls must then send it. */
  adminToken?: string | undefined;
  /** Extra env per service (e.g. `POLICY_PRESET` for the gateway). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Keep logs here; by default a temp dir, removed on stop. */
  logDir?: string;
  seed?: number | undefined;
  queueName?: string;
  /** The topic's subscribers, a worker each; unset: the plain queue and one worker. */
  subscribers?: string[] | undefined;
  /** Each service's process, the moment it is spawned (before it listens): for tests of a stop while starting. */
  onSpawn?: ((name: ServiceName) => void) | undefined;
}

/** Each service's main, run from source through tsx or from the build, like this file. */
const entryOf = (name: ServiceName): string =>
  new URL(
    `../../services/${name}/main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
    import.meta.url,
  ).pathname;

async function startService(
  name: ServiceName,
  env: Record<string, string>,
  logDir: string,
  label: string = name,
  onSpawn?: (child: ChildProcess) => void,
): Promise<StackService> {
  const logFile = path.join(logDir, `${label.replace('/', '-')}.log`);
  const server = await startNodeServer(entryOf(name), {
    env: { LOG_LEVEL: 'info', ...env, HOST: '127.0.0.1', PORT: '0' },
    label,
    logFile,
    ...(onSpawn ? { onSpawn } : {}),
  });
  const health = await request(`${server.url}/healthz`);
  await health.body.dump();
  if (health.statusCode !== 200)
    throw new Error(`${name} is not healthy: /healthz answered ${health.statusCode}`);
  return {
    name,
    label,
    url: server.url,
    pid: server.child.pid ?? -1,
    logFile,
    process: server.child,
  };
}

/** How to stop each stack that is starting or running (stopLiveStacks). */
const liveStacks = new Set<(graceMs?: number) => Promise<void>>();

/**
 * Stops every stack this process started that is still up: what a command does on
 * Ctrl-C, so that no service or redis-server outlives it.
 */
export async function stopLiveStacks(graceMs = 5000): Promise<void> {
  await Promise.all([...liveStacks].map((stop) => stop(graceMs)));
}

/**
 * The whole system on this machine: Redis from the provider (REDIS_URL, a local
 * redis-server, or a container) and the downstream at once, then gateway, producer and
 * worker together, as child processes on free ports, each health-checked.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownLogDir = options.logDir === undefined;
  const logDir = options.logDir ?? mkdtempSync(path.join(tmpdir(), 'cascade-lab-'));
  const cluster = options.redisClusterNodes;
  const providing: Promise<ProvidedRedis> = cluster
    ? Promise.resolve({ url: redisLabel(cluster), source: 'env', stop: async () => {} })
    : provideRedis(
        defaultStrategies(
          { REDIS_URL: options.redisUrl },
          { appendOnly: true, appendFsync: 'always' },
        ),
      );
  /** Every service process, from the moment it is spawned: a stop while starting stops it too. */
  const children = new Set<ChildProcess>();
  let stopping = false;
  /** Killed on purpose (restartWorker): their exit is not unexpected. */
  const killed = new Set<ChildProcess>();
  let reportExit: (exit: Awaited<Stack['unexpectedExit']>) => void = () => undefined;
  const unexpectedExit = new Promise<Awaited<Stack['unexpectedExit']>>(
    (resolve) => (reportExit = resolve),
  );
  const watch = (service: StackService) =>
    service.process.once('exit', (code, signal) => {
      if (!stopping && !killed.has(service.process))
        reportExit({ name: service.name, label: service.label, code, signal });
    });
  const common: Record<string, string> = {
    ...(options.seed !== undefined ? { SEED: String(options.seed) } : {}),
    ...(options.adminToken ? { ADMIN_TOKEN: options.adminToken } : {}),
  };
  let stopped: Promise<void> | undefined;
  const stop = (graceMs = 15_000) =>
    (stopped ??= (async () => {
      stopping = true;
      for (const child of [...children].reverse()) await stopChild(child, graceMs);
      await (await providing.catch(() => undefined))?.stop();
      if (ownLogDir) rmSync(logDir, { recursive: true, force: true });
      liveStacks.delete(stop);
    })());
  // From here on a Ctrl-C stops what has started, Redis included (stopLiveStacks).
  liveStacks.add(stop);
  try {
    const start = async (name: ServiceName, env: Record<string, string>, label?: string) => {
      if (stopping) throw new Error(`the stack is stopping: ${label ?? name} is not started`);
      const service = await startService(
        name,
        { ...common, ...env, ...options.serviceEnv?.[name] },
        logDir,
        label,
        (child) => {
          children.add(child);
          options.onSpawn?.(name);
        },
      );
      watch(service);
      return service;
    };
    const subscribers = options.subscribers ?? [];
    const own = options.ownService;
    // The downstream needs no Redis: it starts while Redis does.
    const [redis, downstream] = await Promise.all([
      providing,
      start(
        'downstream',
        own ? { UPSTREAM_URL: own.url, PROXY_MODEL: String(own.model ?? false) } : {},
      ),
    ]);
    const queue = {
      ...(cluster ? { REDIS_CLUSTER_NODES: cluster } : { REDIS_URL: redis.url }),
      QUEUE_NAME: options.queueName ?? 'events',
    };
    const workerEnv = (subscriber: string | undefined) => ({
      ...queue,
      DOWNSTREAM_URL: downstream.url,
      SUBSCRIBER: subscriber ?? '',
    });
    const workerLabel = (subscriber: string | undefined) =>
      subscriber ? `worker/${subscriber}` : 'worker';
    const subscribed = subscribers.length > 0 ? subscribers : [undefined];
    const [gateway, producer, ...workers] = await Promise.all([
      start('gateway', {
        DOWNSTREAM_URL: downstream.url,
        ...(own
          ? {
              UPSTREAM_URL: downstream.url,
              ...(own.failureStatuses ? { FAILURE_STATUSES: own.failureStatuses } : {}),
            }
          : {}),
      }),
      start('producer', { ...queue, SUBSCRIBERS: subscribers.join(',') }),
      ...subscribed.map((subscriber) =>
        start('worker', workerEnv(subscriber), workerLabel(subscriber)),
      ),
    ]);
    const services = { downstream, gateway, producer, worker: workers[0]! };
    const restartWorker = async (index: number) => {
      const doomed = workers[index];
      if (!doomed) throw new Error(`no worker ${index}: the stack has ${workers.length}`);
      killed.add(doomed.process);
      if (doomed.process.exitCode === null && doomed.process.signalCode === null) {
        const exited = once(doomed.process, 'exit');
        doomed.process.kill('SIGKILL');
        await exited;
      }
      children.delete(doomed.process);
      const subscriber = subscribed[index];
      const replacement = await start('worker', workerEnv(subscriber), workerLabel(subscriber));
      workers[index] = replacement;
      if (index === 0) services.worker = replacement;
      return replacement;
    };
    return {
      redis,
      services,
      workers,
      logDir,
      adminToken: common.ADMIN_TOKEN,
      unexpectedExit,
      stop,
      restartWorker,
    };
  } catch (error) {
    // Stopped from outside (Ctrl-C): whatever failed first, say so, not the symptom.
    const stoppedFromOutside = stopping;
    await stop(2000);
    if (stoppedFromOutside)
      throw new Error('the stack was stopped while it was starting', { cause: error });
    throw error;
  }
}
