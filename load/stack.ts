import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import {
  defaultStrategies,
  type ProvidedRedis,
  provideRedis,
} from '../services/shared/redis-provider.ts';
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
}

export interface StackOptions {
  /** A Redis to use; unset: a redis-server of its own (AOF, appendfsync always), else a container. */
  redisUrl?: string | undefined;
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
}

/** Each service's main, run from source through tsx or from the build, like this file. */
const entryOf = (name: ServiceName): string =>
  new URL(
    `../services/${name}/main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
    import.meta.url,
  ).pathname;

async function startService(
  name: ServiceName,
  env: Record<string, string>,
  logDir: string,
  label: string = name,
): Promise<StackService> {
  const logFile = path.join(logDir, `${label.replace('/', '-')}.log`);
  const server = await startNodeServer(entryOf(name), {
    env: { LOG_LEVEL: 'info', ...env, HOST: '127.0.0.1', PORT: '0' },
    label,
    logFile,
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

/**
 * The whole system on this machine: Redis from the provider (REDIS_URL, a local
 * redis-server, or a container), then downstream, gateway, producer and worker as
 * child processes on free ports, each health-checked before the next starts.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownLogDir = options.logDir === undefined;
  const logDir = options.logDir ?? mkdtempSync(path.join(tmpdir(), 'cascade-lab-'));
  const redis = await provideRedis(
    defaultStrategies({ REDIS_URL: options.redisUrl }, { appendOnly: true, appendFsync: 'always' }),
  );
  const started: StackService[] = [];
  let stopping = false;
  const common: Record<string, string> = {
    ...(options.seed !== undefined ? { SEED: String(options.seed) } : {}),
    ...(options.adminToken ? { ADMIN_TOKEN: options.adminToken } : {}),
  };
  const stop = async (graceMs = 15_000) => {
    stopping = true;
    for (const service of [...started].reverse()) await stopChild(service.process, graceMs);
    await redis.stop();
    if (ownLogDir) rmSync(logDir, { recursive: true, force: true });
  };
  try {
    const queue = { REDIS_URL: redis.url, QUEUE_NAME: options.queueName ?? 'events' };
    const start = async (name: ServiceName, env: Record<string, string>, label?: string) => {
      const service = await startService(
        name,
        { ...common, ...env, ...options.serviceEnv?.[name] },
        logDir,
        label,
      );
      started.push(service);
      return service;
    };
    const subscribers = options.subscribers ?? [];
    const downstream = await start('downstream', {});
    const [gateway, producer, ...workers] = await Promise.all([
      start('gateway', { DOWNSTREAM_URL: downstream.url }),
      start('producer', { ...queue, SUBSCRIBERS: subscribers.join(',') }),
      ...(subscribers.length > 0 ? subscribers : [undefined]).map((subscriber) =>
        start(
          'worker',
          { ...queue, DOWNSTREAM_URL: downstream.url, SUBSCRIBER: subscriber ?? '' },
          subscriber ? `worker/${subscriber}` : 'worker',
        ),
      ),
    ]);
    const worker = workers[0]!;
    const unexpectedExit = new Promise<{
      name: ServiceName;
      label: string;
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve) => {
      for (const service of started) {
        service.process.once('exit', (code, signal) => {
          if (!stopping) resolve({ name: service.name, label: service.label, code, signal });
        });
      }
    });
    return {
      redis,
      services: { downstream, gateway, producer, worker },
      workers,
      logDir,
      adminToken: common.ADMIN_TOKEN,
      unexpectedExit,
      stop,
    };
  } catch (error) {
    await stop(2000);
    throw error;
  }
}
