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
  url: string;
  pid: number;
  logFile: string;
  process: ChildProcess;
}

export interface Stack {
  redis: ProvidedRedis;
  services: Record<ServiceName, StackService>;
  logDir: string;
  /** The ADMIN_TOKEN the services were given, if any; admin calls must send it. */
  adminToken?: string | undefined;
  /** Resolves with the first service that exits before `stop` is called. */
  unexpectedExit: Promise<{
    name: ServiceName;
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
): Promise<StackService> {
  const logFile = path.join(logDir, `${name}.log`);
  const server = await startNodeServer(entryOf(name), {
    env: { LOG_LEVEL: 'info', ...env, HOST: '127.0.0.1', PORT: '0' },
    label: name,
    logFile,
  });
  const health = await request(`${server.url}/healthz`);
  await health.body.dump();
  if (health.statusCode !== 200)
    throw new Error(`${name} is not healthy: /healthz answered ${health.statusCode}`);
  return { name, url: server.url, pid: server.child.pid ?? -1, logFile, process: server.child };
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
    const start = async (name: ServiceName, env: Record<string, string>) => {
      const service = await startService(
        name,
        { ...common, ...env, ...options.serviceEnv?.[name] },
        logDir,
      );
      started.push(service);
      return service;
    };
    const downstream = await start('downstream', {});
    const [gateway, producer, worker] = await Promise.all([
      start('gateway', { DOWNSTREAM_URL: downstream.url }),
      start('producer', queue),
      start('worker', { ...queue, DOWNSTREAM_URL: downstream.url }),
    ]);
    const unexpectedExit = new Promise<{
      name: ServiceName;
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve) => {
      for (const service of started) {
        service.process.once('exit', (code, signal) => {
          if (!stopping) resolve({ name: service.name, code, signal });
        });
      }
    });
    return {
      redis,
      services: { downstream, gateway, producer, worker },
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
